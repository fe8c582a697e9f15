import { AppError } from '../../platform/http/errors.js';

/**
 * Photos from phones carry metadata: EXIF with the GPS position where they
 * were taken, XMP, IPTC, comments, thumbnails. Members' images are shown to
 * other members, so it is removed before an image is stored, by walking the
 * file's own structure (segments, chunks) and dropping the metadata ones:
 * the image data is kept byte for byte, never re-encoded. Anything after the
 * image's end (a second image, a trailer) goes too.
 */

const damaged = (type: string) => new AppError('REQUEST-004', `the ${type} image is damaged`);

/** The image without its metadata; `mime` as detected from the bytes. */
export function stripMetadata(bytes: Buffer, mime: string): Buffer {
  if (mime === 'image/jpeg') return stripJpeg(bytes);
  if (mime === 'image/png') return stripPng(bytes);
  if (mime === 'image/webp') return stripWebp(bytes);
  throw new Error(`no metadata walker for ${mime}`);
}

// --- JPEG (ITU T.81): marker segments, then entropy-coded scans ---

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const COM = 0xfe;
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP15 = 0xef;

/** APPn segments decoding needs: JFIF, the ICC colour profile, Adobe's colour transform. */
const KEPT_APP: Array<[number, string]> = [
  [APP0, 'JFIF\0'],
  [0xe2, 'ICC_PROFILE\0'],
  [0xee, 'Adobe'],
];
const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const ORIENTATION_TAG = 0x0112;

const startsWith = (data: Buffer, id: string | Buffer) => {
  const prefix = typeof id === 'string' ? Buffer.from(id, 'latin1') : id;
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
};
/** Markers without a length: TEM and the restart markers. */
const standalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);

/** The EXIF orientation (2–8: the picture is shown turned or mirrored), if the block says one. */
export function exifOrientation(exif: Buffer): number | undefined {
  if (!startsWith(exif, EXIF_ID)) return undefined;
  const tiff = exif.subarray(EXIF_ID.length);
  if (tiff.length < 8) return undefined;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  if (!little && tiff.toString('latin1', 0, 2) !== 'MM') return undefined;
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return undefined;
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return undefined;
  const entries = u16(ifd);
  for (let n = 0; n < entries; n++) {
    const at = ifd + 2 + n * 12;
    if (at + 12 > tiff.length) return undefined;
    // SHORT, one value: in the entry itself.
    if (u16(at) === ORIENTATION_TAG && u16(at + 2) === 3 && u32(at + 4) === 1) {
      const value = u16(at + 8);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** An APP1 EXIF segment with the orientation only: a turned photo still shows upright. */
function orientationSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 right after the header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(ORIENTATION_TAG, 10);
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt16BE(orientation, 18); // value, padded to 4 bytes; next IFD offset 0 follows
  const data = Buffer.concat([EXIF_ID, tiff]);
  const header = Buffer.from([0xff, APP1, 0, 0]);
  header.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([header, data]);
}

/** The end of the entropy-coded data starting at `from`: the next marker that is not a stuffed byte or a restart. */
function scanEnd(jpeg: Buffer, from: number): number {
  for (let i = from; i + 1 < jpeg.length; i++) {
    if (jpeg[i] !== 0xff) continue;
    const next = jpeg[i + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) i++;
    else if (next !== 0xff) return i;
  }
  return jpeg.length;
}

export function stripJpeg(jpeg: Buffer): Buffer {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) throw damaged('JPEG');
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  let exifAt = 1; // after SOI, or after a JFIF APP0 that must come first
  let orientation: number | undefined;
  let i = 2;
  while (i < jpeg.length) {
    if (jpeg[i] !== 0xff) throw damaged('JPEG');
    const marker = jpeg[i + 1];
    if (marker === undefined) break;
    if (marker === 0xff) {
      i++; // a fill byte
    } else if (marker === EOI) {
      parts.push(jpeg.subarray(i, i + 2));
      break;
    } else if (standalone(marker)) {
      parts.push(jpeg.subarray(i, i + 2));
      i += 2;
    } else {
      if (i + 4 > jpeg.length) throw damaged('JPEG');
      const end = i + 2 + jpeg.readUInt16BE(i + 2);
      if (end > jpeg.length || end < i + 4) throw damaged('JPEG');
      const data = jpeg.subarray(i + 4, end);
      if (marker === APP1) orientation ??= exifOrientation(data);
      const metadata =
        marker === COM || (marker >= APP0 && marker <= APP15 && !KEPT_APP.some(([m, id]) => m === marker && startsWith(data, id)));
      if (!metadata) {
        parts.push(jpeg.subarray(i, end));
        if (marker === APP0 && parts.length === 2) exifAt = 2;
      }
      i = end;
      if (marker === SOS) {
        // Scans run to the next marker; tables and more scans (progressive) may follow.
        const scan = scanEnd(jpeg, i);
        parts.push(jpeg.subarray(i, scan));
        i = scan;
      }
    }
  }
  if (orientation && orientation !== 1) parts.splice(exifAt, 0, orientationSegment(orientation));
  return Buffer.concat(parts);
}

// --- PNG: length, type, data, CRC chunks ---

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** EXIF, text (author, comment, software, location, anything) and the modification time. */
const PNG_METADATA = new Set(['eXIf', 'tEXt', 'iTXt', 'zTXt', 'tIME']);

export function stripPng(png: Buffer): Buffer {
  if (!startsWith(png, PNG_SIGNATURE)) throw damaged('PNG');
  const parts: Buffer[] = [PNG_SIGNATURE];
  let i = PNG_SIGNATURE.length;
  while (i + 12 <= png.length) {
    const end = i + 12 + png.readUInt32BE(i);
    if (end > png.length) throw damaged('PNG');
    const type = png.toString('latin1', i + 4, i + 8);
    if (!PNG_METADATA.has(type)) parts.push(png.subarray(i, end));
    i = end;
    if (type === 'IEND') break;
  }
  return Buffer.concat(parts);
}

// --- WebP: a RIFF container of chunks ---

const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;

export function stripWebp(webp: Buffer): Buffer {
  if (webp.length < 12 || webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') throw damaged('WebP');
  const riffEnd = Math.min(webp.length, 8 + webp.readUInt32LE(4));
  const parts: Buffer[] = [];
  let i = 12;
  while (i + 8 <= riffEnd) {
    const size = webp.readUInt32LE(i + 4);
    const end = i + 8 + size + (size % 2); // chunks are padded to an even size
    if (i + 8 + size > riffEnd) throw damaged('WebP');
    const type = webp.toString('latin1', i, i + 4);
    if (type === 'VP8X' && size >= 1) {
      // The extended header says which metadata chunks follow: none any more.
      const chunk = Buffer.from(webp.subarray(i, Math.min(end, riffEnd)));
      chunk[8] = chunk[8]! & ~(VP8X_EXIF | VP8X_XMP);
      parts.push(chunk);
    } else if (type !== 'EXIF' && type !== 'XMP ') {
      parts.push(webp.subarray(i, Math.min(end, riffEnd)));
    }
    i = end;
  }
  const body = Buffer.concat(parts);
  const header = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  return Buffer.concat([header, body]);
}
