/**
 * The size limits of a dataset's input files (docs/input-contract.md lists them with the reasons). Each is far above
 * what a real dataset holds, and low enough that a hostile or broken file is refused in bounded time and memory.
 */

/** Largest label file (a 16-column line is about 60–100 bytes: 4 MiB holds over 40,000 objects). */
export const MAX_LABEL_FILE_BYTES = 4 * 1024 * 1024;
/** Most lines in one label file (one object per line; a 640² field of view holds a few hundred cells at most). */
export const MAX_LABEL_LINES = 10_000;
/** Largest region sidecar (`<stem>.region`: one line of four numbers). */
export const MAX_REGION_FILE_BYTES = 64 * 1024;
/** Largest image list file (a split given as a .txt of image paths: 256 MiB is millions of paths). */
export const MAX_LIST_FILE_BYTES = 256 * 1024 * 1024;
/** Most classes (`nc`, `names`) of a dataset: the Detect layer has 3·(5 + nc) output channels per level. */
export const MAX_CLASSES = 4096;
/** Longest class name, in characters. */
export const MAX_CLASS_NAME_LENGTH = 256;
/** Most attributes, and most values per attribute, in a data YAML's `attributes`. */
export const MAX_ATTRIBUTES = 64;
/** Largest image file. */
export const MAX_IMAGE_FILE_BYTES = 512 * 1024 * 1024;
/**
 * Most pixels of one image (width × height; sharp's default limit, 16383²): decoded as 8-bit RGB that is 768 MiB.
 * A larger image is reported as unreadable, before its pixels are decoded.
 */
export const MAX_IMAGE_PIXELS = 0x3fff * 0x3fff;
/** Largest COCO JSON file (V8's longest string is about 512 Mi characters). */
export const MAX_COCO_JSON_BYTES = 500 * 1024 * 1024;
/** Largest VOC XML file (one image's objects). */
export const MAX_VOC_XML_BYTES = 16 * 1024 * 1024;
/** Largest WBCAtt attribute CSV read by `convert --from wbcatt` (the published ones are ~1 MiB for ~6,000 rows). */
export const MAX_WBCATT_CSV_BYTES = 64 * 1024 * 1024;
