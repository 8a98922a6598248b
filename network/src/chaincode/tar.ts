import { gzipSync } from 'node:zlib';

/** A file to put in a tar archive. */
export interface TarEntry {
  readonly name: string;
  readonly content: Buffer;
}

const blockSize = 512;

/**
 * A gzip-compressed ustar archive with fixed owner, mode and time, so the same files
 * always give the same bytes: the chaincode package id is a hash of the package file.
 */
export function deterministicTarGz(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    blocks.push(header(entry.name, entry.content.length));
    blocks.push(entry.content);
    const padding = (blockSize - (entry.content.length % blockSize)) % blockSize;
    blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(blockSize * 2));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function header(name: string, size: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const block = Buffer.alloc(blockSize);
  block.write(name, 0, 100, 'utf8');
  block.write(octal(0o644, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(0, 12), 136);
  block.write(' '.repeat(8), 148);
  block.write('0', 156);
  block.write('ustar\u000000', 257, 'binary');
  let checksum = 0;
  for (const byte of block) checksum += byte;
  block.write(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148, 'binary');
  return block;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\u0000`;
}
