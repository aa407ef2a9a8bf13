import type { LayoutPlatform } from './seed-busybox.mjs';
/** MultiarchImage is one platform of the image and the Debian architecture its busybox comes from. */
export interface MultiarchImage {
  readonly debianArch: string;
  readonly platform: LayoutPlatform;
  /** What `uname -m` prints in a container of this platform. */
  readonly machine: string;
}
/** MULTIARCH_IMAGES are the platforms of the image, in index order. arm64 carries its v8 variant, as Docker Hub's do. */
export declare const MULTIARCH_IMAGES: readonly MultiarchImage[];
/** MULTIARCH_REPOSITORY is where seedMultiarchBusybox pushes the image by default. */
export declare const MULTIARCH_REPOSITORY: string;
/** fetchBusyboxDebs returns the cached busybox-static .deb of each Debian architecture, downloading missing ones. */
export declare function fetchBusyboxDebs(debianArchs: readonly string[]): Promise<string[]>;
/** multiarchBusyboxLayout returns an OCI layout holding the image's index (tag "latest"), built once per package set. */
export declare function multiarchBusyboxLayout(): Promise<string>;
/** seedMultiarchBusybox pushes the image's index and its images as HOST/REPOSITORY:latest (plain HTTP registry). */
export declare function seedMultiarchBusybox(host: string, repository?: string): Promise<void>;
