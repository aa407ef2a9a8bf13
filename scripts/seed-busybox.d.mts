/** BUSYBOX_PATH is the static busybox binary copied into the image. */
export declare const BUSYBOX_PATH: string;
/** BUSYBOX_TAG is the tag the layout's manifest is published under. */
export declare const BUSYBOX_TAG: string;
/** hostArchitecture returns the OCI architecture name of this machine. */
export declare function hostArchitecture(): string;
/** makeBusyboxOciLayout writes a deterministic busybox OCI image layout into dir (tag "latest"). */
export declare function makeBusyboxOciLayout(dir: string): Promise<void>;
/** seedBusybox builds the layout in a temp dir and pushes it as HOST/library/busybox:latest. */
export declare function seedBusybox(host: string): Promise<void>;
