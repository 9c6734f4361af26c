/** Defaults shared by every command that feeds images to the network (torch-free: the CLI shows them in --help). */

/** Network input size in pixels (the long side of each image after letterboxing): YOLOv5's 640. */
export const DEFAULT_IMG_SIZE = 640;
