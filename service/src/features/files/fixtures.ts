/** Tiny real images, for upload tests. */
export const PNG_1x1 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
export const JPEG_1x1 = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);
export const WEBP_1x1 = Buffer.from('UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA', 'base64');

export function imageForm(bytes: Buffer, name: string, purpose: 'profile' | 'car', type = 'application/octet-stream'): FormData {
  const form = new FormData();
  form.set('purpose', purpose);
  form.set('file', new Blob([new Uint8Array(bytes)], { type }), name);
  return form;
}

/** A real 8×8 progressive JPEG (libjpeg-turbo's cjpeg): ten scans, with tables between them, and its EOI. */
export const JPEG_8x8 = Buffer.from(
  '/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wgARCAAIAAgDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAP/xAAVAQEBAAAAAAAAAAAAAAAAAAABA//aAAwDAQACEAMQAAABmJv/xAAVEAEBAAAAAAAAAAAAAAAAAAADAP/aAAgBAQABBQIwv//EABcRAAMBAAAAAAAAAAAAAAAAAAACAxL/2gAIAQMBAT8BhVsH/8QAFxEBAAMAAAAAAAAAAAAAAAAAAgADEf/aAAgBAgEBPwFWLZ//xAAUEAEAAAAAAAAAAAAAAAAAAAAA/9oACAEBAAY/An//xAAVEAEBAAAAAAAAAAAAAAAAAAAAYf/aAAgBAQABPyGD/9oADAMBAAIAAwAAABD3/8QAFhEAAwAAAAAAAAAAAAAAAAAAABEh/9oACAEDAQE/EF1P/8QAFREBAQAAAAAAAAAAAAAAAAAAAEH/2gAIAQIBAT8QuP/EABUQAQEAAAAAAAAAAAAAAAAAAAAx/9oACAEBAAE/EIv/2Q==',
  'base64',
);

/** What the metadata fixtures give away, to look for in what is stored. */
export const GPS_SECRETS = { make: 'PhoneCo', xmp: 'exif:GPSLatitude', comment: 'shot at home', trailer: 'SECOND-IMAGE' };

/** A JPEG segment: marker, length, data. */
export function jpegSegment(marker: number, data: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([header, data]);
}

/** A big-endian EXIF block as a phone writes it: orientation, maker and a GPS position (37°15'30"N 127°1'20"E). */
export function exifBlock(orientation = 1): Buffer {
  const tiff = Buffer.alloc(160);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0
  /** An IFD entry; `value` is the offset of what does not fit in 4 bytes, or the bytes themselves. */
  const entry = (at: number, tag: number, type: number, count: number, value: number | Buffer) => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    if (typeof value === 'number') tiff.writeUInt32BE(value, at + 8);
    else value.copy(tiff, at + 8);
  };
  const short = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  // IFD0 at 8 (three entries, then next-IFD 0), the maker string at 50, the GPS IFD at 58, its rationals at 112 and 136.
  tiff.writeUInt16BE(3, 8);
  entry(10, 0x0112, 3, 1, short(orientation));
  entry(22, 0x010f, 2, 8, 50);
  entry(34, 0x8825, 4, 1, 58);
  tiff.write(`${GPS_SECRETS.make}\0`, 50, 'latin1');
  tiff.writeUInt16BE(4, 58);
  entry(60, 0x0001, 2, 2, Buffer.from('N\0', 'latin1'));
  entry(72, 0x0002, 5, 3, 112);
  entry(84, 0x0003, 2, 2, Buffer.from('E\0', 'latin1'));
  entry(96, 0x0004, 5, 3, 136);
  [37, 1, 15, 1, 3000, 100, 127, 1, 1, 1, 2000, 100].forEach((n, k) => tiff.writeUInt32BE(n, 112 + k * 4));
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

/** Where JPEG_8x8's JFIF APP0 segment ends (it follows SOI). */
export const JPEG_8x8_APP0_END = 4 + JPEG_8x8.readUInt16BE(4);

/**
 * JPEG_8x8 as a phone would upload it: EXIF with GPS and the orientation, XMP, a Photoshop IRB,
 * a comment, an ICC profile (to be kept: colours depend on it) and a second image after EOI.
 */
export function jpegWithMetadata(orientation = 1): Buffer {
  return Buffer.concat([
    JPEG_8x8.subarray(0, JPEG_8x8_APP0_END),
    jpegSegment(0xe1, exifBlock(orientation)),
    jpegSegment(0xe1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta ${GPS_SECRETS.xmp}="37,15.5N"/>`, 'latin1')),
    jpegSegment(0xed, Buffer.from('Photoshop 3.0\x008BIM\x04\x04\0\0\0\0\0\x08city=Suwon', 'latin1')),
    ICC_SEGMENT,
    jpegSegment(0xfe, Buffer.from(GPS_SECRETS.comment, 'latin1')),
    JPEG_8x8.subarray(JPEG_8x8_APP0_END),
    Buffer.from(`\xff\xd8${GPS_SECRETS.trailer}\xff\xd9`, 'latin1'),
  ]);
}

/** An APP2 ICC profile segment (its content is not read). */
export const ICC_SEGMENT = jpegSegment(0xe2, Buffer.from('ICC_PROFILE\0\x01\x01fake-profile', 'latin1'));
