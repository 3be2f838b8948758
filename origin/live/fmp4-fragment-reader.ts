// Splits ffmpeg's fragmented MP4 output (read from a pipe, in arbitrary chunks) into what LL-HLS
// serves: the init segment (ftyp + moov) and one part per moof + mdat pair, with the part's
// duration (the video track's sample durations over its timescale) and whether it starts with a
// sync sample (ISO/IEC 14496-12 §8.8: tfhd/trex defaults, trun per-sample values).

/** Any box larger than this is not what our encoder writes (a 0.33 s part is well under 1 MiB). */
export const MAX_BOX_BYTES = 64 * 1024 * 1024;

export class Fmp4FormatError extends Error {
  override readonly name = 'Fmp4FormatError';
}

export type Fmp4Unit =
  | { readonly kind: 'init'; readonly bytes: Buffer }
  | {
      readonly kind: 'part';
      readonly bytes: Buffer;
      /** The video track's decode time of the first sample, in seconds. */
      readonly startSeconds: number;
      readonly durationSeconds: number;
      /** The first video sample is a sync sample: a player can start decoding here. */
      readonly independent: boolean;
    };

interface Box {
  readonly type: string;
  /** The payload, after the size/type header. */
  readonly body: Buffer;
}

function childBoxes(buffer: Buffer): Box[] {
  const boxes: Box[] = [];
  for (let at = 0; at + 8 <= buffer.length; ) {
    let size = buffer.readUInt32BE(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > buffer.length) throw new Fmp4FormatError('truncated 64-bit box size');
      size = Number(buffer.readBigUInt64BE(at + 8));
      header = 16;
    }
    if (size < header || at + size > buffer.length) throw new Fmp4FormatError(`box ${buffer.toString('latin1', at + 4, at + 8)} overruns its parent`);
    boxes.push({ type: buffer.toString('latin1', at + 4, at + 8), body: buffer.subarray(at + header, at + size) });
    at += size;
  }
  return boxes;
}

const child = (parent: Buffer, type: string): Buffer | undefined => childBoxes(parent).find((box) => box.type === type)?.body;

interface TrackInfo {
  readonly timescale: number;
  readonly handler: string;
  readonly defaultDuration: number;
  readonly defaultFlags: number;
}

/** Track id → timescale, handler and trex defaults, from the moov box. */
function readTracks(moov: Buffer): Map<number, TrackInfo> {
  const defaults = new Map<number, { duration: number; flags: number }>();
  const mvex = child(moov, 'mvex');
  for (const box of mvex ? childBoxes(mvex) : []) {
    // trex: version/flags(4) track_ID(4) default_sample_description_index(4) duration(4) size(4) flags(4)
    if (box.type === 'trex' && box.body.length >= 24) defaults.set(box.body.readUInt32BE(4), { duration: box.body.readUInt32BE(12), flags: box.body.readUInt32BE(20) });
  }
  const tracks = new Map<number, TrackInfo>();
  for (const trak of childBoxes(moov).filter((box) => box.type === 'trak')) {
    const tkhd = child(trak.body, 'tkhd');
    const mdia = child(trak.body, 'mdia');
    const mdhd = mdia && child(mdia, 'mdhd');
    const hdlr = mdia && child(mdia, 'hdlr');
    if (!tkhd || !mdhd || !hdlr || hdlr.length < 12) throw new Fmp4FormatError('a trak lacks tkhd, mdhd or hdlr');
    const trackId = tkhd.readUInt32BE(tkhd[0] === 1 ? 20 : 12);
    const timescale = mdhd.readUInt32BE(mdhd[0] === 1 ? 20 : 12);
    if (timescale === 0) throw new Fmp4FormatError(`track ${trackId} has timescale 0`);
    tracks.set(trackId, { timescale, handler: hdlr.toString('latin1', 8, 12), defaultDuration: defaults.get(trackId)?.duration ?? 0, defaultFlags: defaults.get(trackId)?.flags ?? 0 });
  }
  return tracks;
}

/** sample_depends_on == 2 (depends on nothing) or not sample_is_non_sync_sample. */
const isSyncSample = (flags: number): boolean => ((flags >>> 24) & 0x3) === 2 || ((flags >>> 16) & 0x1) === 0;

/** The video traf of a moof: its decode time, summed sample durations and first sample's sync flag. */
function describeMoof(moof: Buffer, tracks: ReadonlyMap<number, TrackInfo>): { startSeconds: number; durationSeconds: number; independent: boolean } {
  for (const traf of childBoxes(moof).filter((box) => box.type === 'traf')) {
    const tfhd = child(traf.body, 'tfhd');
    if (!tfhd || tfhd.length < 8) throw new Fmp4FormatError('traf without tfhd');
    const track = tracks.get(tfhd.readUInt32BE(4));
    if (!track) throw new Fmp4FormatError(`traf for unknown track ${tfhd.readUInt32BE(4)}`);
    if (track.handler !== 'vide') continue;
    const tfhdFlags = tfhd.readUInt32BE(0) & 0xffffff;
    let at = 8;
    if (tfhdFlags & 0x01) at += 8; // base_data_offset
    if (tfhdFlags & 0x02) at += 4; // sample_description_index
    let defaultDuration = track.defaultDuration;
    let defaultFlags = track.defaultFlags;
    if (tfhdFlags & 0x08) defaultDuration = tfhd.readUInt32BE((at += 4) - 4);
    if (tfhdFlags & 0x10) at += 4; // default_sample_size
    if (tfhdFlags & 0x20) defaultFlags = tfhd.readUInt32BE(at);
    const tfdt = child(traf.body, 'tfdt');
    if (!tfdt) throw new Fmp4FormatError('video traf without tfdt');
    const decodeTime = tfdt[0] === 1 ? Number(tfdt.readBigUInt64BE(4)) : tfdt.readUInt32BE(4);
    let duration = 0;
    let firstFlags: number | undefined;
    for (const trun of childBoxes(traf.body).filter((box) => box.type === 'trun')) {
      const body = trun.body;
      const flags = body.readUInt32BE(0) & 0xffffff;
      const count = body.readUInt32BE(4);
      let cursor = 8;
      if (flags & 0x01) cursor += 4; // data_offset
      let firstSampleFlags: number | undefined;
      if (flags & 0x04) firstSampleFlags = body.readUInt32BE((cursor += 4) - 4);
      const perSample = [0x100, 0x200, 0x400, 0x800].filter((bit) => flags & bit).length * 4;
      if (cursor + count * perSample > body.length) throw new Fmp4FormatError('trun overruns its box');
      for (let sample = 0; sample < count; sample++) {
        let field = cursor + sample * perSample;
        duration += flags & 0x100 ? body.readUInt32BE((field += 4) - 4) : defaultDuration;
        if (flags & 0x200) field += 4;
        const sampleFlags = flags & 0x400 ? body.readUInt32BE(field) : defaultFlags;
        if (sample === 0) firstFlags ??= firstSampleFlags ?? sampleFlags;
      }
    }
    if (firstFlags === undefined) throw new Fmp4FormatError('video traf without samples');
    return { startSeconds: decodeTime / track.timescale, durationSeconds: duration / track.timescale, independent: isSyncSample(firstFlags) };
  }
  throw new Fmp4FormatError('moof without a video track fragment');
}

export interface Fmp4FragmentReader {
  /** Takes the next bytes of the stream; returns every init segment or part they complete. */
  push(chunk: Buffer): Fmp4Unit[];
  /** Bytes received that do not yet complete a unit (an unfinished stream leaves some). */
  readonly pendingBytes: () => number;
}

export function createFmp4FragmentReader(): Fmp4FragmentReader {
  let pending: Buffer = Buffer.alloc(0);
  let head: Buffer[] = [];
  let tracks: Map<number, TrackInfo> | undefined;
  let moof: { bytes: Buffer; body: Buffer } | undefined;

  const take = (box: Buffer, type: string, body: Buffer): Fmp4Unit | undefined => {
    if (!tracks) {
      if (type === 'ftyp') head = [box];
      else if (type === 'moov') {
        if (head.length === 0) throw new Fmp4FormatError('moov before ftyp');
        tracks = readTracks(body);
        if (![...tracks.values()].some((track) => track.handler === 'vide')) throw new Fmp4FormatError('no video track');
        return { kind: 'init', bytes: Buffer.concat([...head, box]) };
      } else throw new Fmp4FormatError(`${type} box before the init segment`);
      return undefined;
    }
    if (type === 'moof') {
      if (moof) throw new Fmp4FormatError('moof without its mdat');
      moof = { bytes: box, body };
      return undefined;
    }
    if (type === 'mdat') {
      if (!moof) throw new Fmp4FormatError('mdat without a moof');
      const unit: Fmp4Unit = { kind: 'part', bytes: Buffer.concat([moof.bytes, box]), ...describeMoof(moof.body, tracks) };
      moof = undefined;
      return unit;
    }
    return undefined; // styp, sidx, mfra and the like carry nothing a part needs
  };

  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const units: Fmp4Unit[] = [];
      for (;;) {
        if (pending.length < 8) break;
        let size = pending.readUInt32BE(0);
        let header = 8;
        if (size === 1) {
          if (pending.length < 16) break;
          size = Number(pending.readBigUInt64BE(8));
          header = 16;
        }
        const type = pending.toString('latin1', 4, 8);
        if (size < header) throw new Fmp4FormatError(`box ${JSON.stringify(type)} has bad size ${size}`);
        if (size > MAX_BOX_BYTES) throw new Fmp4FormatError(`box ${JSON.stringify(type)} of ${size} bytes exceeds ${MAX_BOX_BYTES}`);
        if (pending.length < size) break;
        const box = pending.subarray(0, size);
        pending = pending.subarray(size);
        const unit = take(Buffer.from(box), type, box.subarray(header));
        if (unit) units.push(unit);
      }
      return units;
    },
    pendingBytes: () => pending.length + (moof?.bytes.length ?? 0),
  };
}
