import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { AppError } from '../../platform/http/errors.js';
import {
  GPS_SECRETS,
  ICC_SEGMENT,
  JPEG_1x1,
  JPEG_8x8,
  JPEG_8x8_APP0_END,
  PNG_1x1,
  WEBP_1x1,
  exifBlock,
  jpegSegment,
  jpegWithMetadata,
} from './fixtures.js';
import { exifOrientation, stripJpeg, stripMetadata, stripPng, stripWebp } from './metadata.js';

const has = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text, 'latin1'));
const isDamaged = (err: unknown) => err instanceof AppError && err.code === 'REQUEST-004';

/** The JPEG markers of a file, in order, up to and including EOI. */
function markers(jpeg: Buffer): number[] {
  const found: number[] = [];
  for (let i = 0; i + 1 < jpeg.length; i++)
    if (jpeg[i] === 0xff && jpeg[i + 1]! > 0x01 && jpeg[i + 1] !== 0xff && !(jpeg[i + 1]! >= 0xd0 && jpeg[i + 1]! <= 0xd7)) {
      found.push(jpeg[i + 1]!);
      if (jpeg[i + 1] === 0xd9) break;
      if (jpeg[i + 1] !== 0xd8) i += jpeg.readUInt16BE(i + 2) + 1;
    }
  return found;
}

describe('image metadata removal', () => {
  it('JPEG: drops EXIF (GPS), XMP, Photoshop IRB, comments and what follows EOI; keeps JFIF, ICC and the image data byte for byte', () => {
    const stripped = stripJpeg(jpegWithMetadata());
    for (const secret of Object.values(GPS_SECRETS)) assert.ok(!has(stripped, secret), `no ${secret}`);
    assert.ok(!has(stripped, 'Exif'), 'no EXIF block at all when the orientation is the default');
    assert.ok(!stripped.includes(Buffer.from([0x88, 0x25])), 'no GPS IFD pointer');
    const expected = Buffer.concat([JPEG_8x8.subarray(0, JPEG_8x8_APP0_END), ICC_SEGMENT, JPEG_8x8.subarray(JPEG_8x8_APP0_END)]);
    assert.deepEqual(stripped, expected);
    assert.deepEqual(stripped.subarray(0, 2), Buffer.from([0xff, 0xd8]), 'starts with SOI');
    assert.deepEqual(stripped.subarray(-2), Buffer.from([0xff, 0xd9]), 'ends with EOI');
    assert.ok(markers(stripped).includes(0xc2), 'the progressive SOF is there');
  });

  it('JPEG: a turned photo keeps its orientation, alone, in a minimal EXIF block after JFIF', () => {
    const stripped = stripJpeg(jpegWithMetadata(6));
    const app1 = stripped.subarray(JPEG_8x8_APP0_END, JPEG_8x8_APP0_END + 4 + 32);
    assert.deepEqual(app1.subarray(0, 2), Buffer.from([0xff, 0xe1]));
    assert.equal(exifOrientation(app1.subarray(4)), 6);
    assert.equal(app1.readUInt16BE(4 + 6 + 8), 1, 'one IFD entry: the orientation');
    assert.ok(!has(stripped, GPS_SECRETS.make) && !stripped.includes(Buffer.from([0x88, 0x25])), 'nothing else of the EXIF block');
    const unturned = markers(stripJpeg(jpegWithMetadata()));
    assert.deepEqual(markers(stripped), [...unturned.slice(0, 2), 0xe1, ...unturned.slice(2)]);
  });

  it('JPEG: one without metadata is unchanged, and so is one cut short before its EOI', () => {
    assert.deepEqual(stripJpeg(JPEG_8x8), JPEG_8x8);
    assert.deepEqual(stripJpeg(JPEG_1x1), JPEG_1x1);
  });

  it('JPEG: a segment running past the end, or bytes where a marker belongs, is a damaged image (415)', () => {
    const cut = jpegWithMetadata().subarray(0, JPEG_8x8_APP0_END + 20);
    assert.throws(() => stripJpeg(cut), isDamaged);
    const noMarker = Buffer.concat([JPEG_8x8.subarray(0, JPEG_8x8_APP0_END), Buffer.from('garbage')]);
    assert.throws(() => stripJpeg(noMarker), isDamaged);
    assert.throws(() => stripJpeg(Buffer.from('not a jpeg')), isDamaged);
  });

  it('EXIF orientation: read from a well-formed block only', () => {
    assert.equal(exifOrientation(exifBlock(8)), 8);
    assert.equal(exifOrientation(exifBlock(9)), undefined, 'out of range');
    assert.equal(exifOrientation(exifBlock(6).subarray(0, 20)), undefined, 'IFD cut short');
    assert.equal(exifOrientation(Buffer.from('Exif\0\0XX\0*\0\0\0\x08', 'latin1')), undefined, 'no byte order');
    assert.equal(exifOrientation(jpegSegment(0xe1, Buffer.from('http://ns.adobe.com/xap/1.0/\0'))), undefined);
  });

  /** A PNG chunk with its CRC. */
  const chunk = (type: string, data: string) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from(data, 'latin1')]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const IHDR_END = 8 + 12 + 13;

  it('PNG: drops eXIf, tEXt, iTXt, zTXt and tIME chunks and what follows IEND; keeps every other chunk', () => {
    const withMetadata = Buffer.concat([
      PNG_1x1.subarray(0, IHDR_END),
      chunk('eXIf', exifBlock(6).subarray(6).toString('latin1')),
      chunk('tEXt', `Comment\0${GPS_SECRETS.comment}`),
      chunk('iTXt', `XML:com.adobe.xmp\0\0\0\0\0${GPS_SECRETS.xmp}`),
      chunk('zTXt', `Make\0\0${GPS_SECRETS.make}`),
      chunk('tIME', '\x07\xea\x03\x02\x08\x00\x00'),
      PNG_1x1.subarray(IHDR_END),
      Buffer.from(GPS_SECRETS.trailer),
    ]);
    assert.deepEqual(stripPng(withMetadata), PNG_1x1);
    assert.deepEqual(stripPng(PNG_1x1), PNG_1x1);
    assert.throws(() => stripPng(withMetadata.subarray(0, IHDR_END + 20)), isDamaged);
  });

  /** A RIFF chunk, padded to an even size. */
  const riffChunk = (type: string, data: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(type, 0, 'latin1');
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
  };
  const riff = (...chunks: Buffer[]) => {
    const body = Buffer.concat(chunks);
    const header = Buffer.from('RIFF\0\0\0\0WEBP', 'latin1');
    header.writeUInt32LE(body.length + 4, 4);
    return Buffer.concat([header, body]);
  };

  it('WebP: drops the EXIF and XMP chunks and clears their flags in the extended header', () => {
    const vp8 = WEBP_1x1.subarray(12);
    const vp8x = (flags: number) => riffChunk('VP8X', Buffer.from([flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    const withMetadata = riff(
      vp8x(0x0c),
      vp8,
      riffChunk('EXIF', exifBlock(6).subarray(6, 43)),
      riffChunk('XMP ', Buffer.from(GPS_SECRETS.xmp)),
    );
    const stripped = stripWebp(Buffer.concat([withMetadata, Buffer.from(GPS_SECRETS.trailer)]));
    assert.deepEqual(stripped, riff(vp8x(0), vp8));
    assert.deepEqual(stripWebp(WEBP_1x1), WEBP_1x1);
    assert.throws(() => stripWebp(withMetadata.subarray(0, 40)), isDamaged, 'a chunk cut short');
  });

  it('dispatches on the detected type', () => {
    assert.deepEqual(stripMetadata(jpegWithMetadata(), 'image/jpeg'), stripJpeg(jpegWithMetadata()));
    assert.deepEqual(stripMetadata(PNG_1x1, 'image/png'), PNG_1x1);
    assert.deepEqual(stripMetadata(WEBP_1x1, 'image/webp'), WEBP_1x1);
  });
});
