/** BUSYBOX_PATH is the static busybox binary copied into the image. */
export declare const BUSYBOX_PATH: string;
/** BUSYBOX_TAG is the tag the layout's manifest is published under. */
export declare const BUSYBOX_TAG: string;
/** LayoutPlatform is the platform of one image in a layout. */
export interface LayoutPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}
/** LayoutManifest is the descriptor of one image's manifest, with its platform. */
export interface LayoutManifest {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform: LayoutPlatform;
}
/** hostArchitecture returns the OCI architecture name of this machine. */
export declare function hostArchitecture(): string;
/** listApplets asks a busybox binary this machine can run for the paths of its applet links. */
export declare function listApplets(busybox?: string): Promise<string[]>;
/** writeBusyboxImage writes the layer, config and manifest of a busybox image for one platform into blobDir. */
export declare function writeBusyboxImage(
  blobDir: string,
  image: { busybox: string; applets: readonly string[]; platform: LayoutPlatform },
): Promise<LayoutManifest>;
/** writeOciLayout writes the layout with one entry tagged "latest": the manifest given, or an image index of several. */
export declare function writeOciLayout(dir: string, manifests: readonly LayoutManifest[]): Promise<void>;
/** makeBusyboxOciLayout writes a deterministic busybox OCI image layout into dir (tag "latest"). */
export declare function makeBusyboxOciLayout(dir: string): Promise<void>;
/** seedBusybox builds the layout in a temp dir and pushes it as HOST/library/busybox:latest. */
export declare function seedBusybox(host: string): Promise<void>;
