// RFC 6381 codec strings read from the encoded bytes themselves, so the master playlist's CODECS
// attribute always matches what the encoder actually produced (profile, constraint flags, level).

function avcString(profile: number, constraints: number, level: number): string {
  return `avc1.${[profile, constraints, level].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** Reads the avcC box of an fMP4 init segment. */
export function avcCodecFromInitSegment(init: Buffer): string {
  const at = init.indexOf('avcC', 0, 'latin1');
  // avcC payload: configurationVersion(1) AVCProfileIndication profile_compatibility AVCLevelIndication
  if (at === -1 || at + 8 > init.length || init[at + 4] !== 1) throw new Error('no avcC box in the init segment');
  return avcString(init[at + 5]!, init[at + 6]!, init[at + 7]!);
}

const TS_PACKET = 188;

/** The payloads of one PID, concatenated in order (enough of the stream to find the first SPS). */
function pidPayload(ts: Buffer, pid: number, limit: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  for (let offset = 0; offset + TS_PACKET <= ts.length && total < limit; offset += TS_PACKET) {
    if (ts[offset] !== 0x47) throw new Error(`lost MPEG-TS sync at byte ${offset}`);
    if ((((ts[offset + 1]! & 0x1f) << 8) | ts[offset + 2]!) !== pid) continue;
    const adaptation = (ts[offset + 3]! >> 4) & 0x3;
    if (!(adaptation & 0x1)) continue;
    const start = offset + 4 + (adaptation & 0x2 ? 1 + ts[offset + 4]! : 0);
    if (start < offset + TS_PACKET) {
      parts.push(ts.subarray(start, offset + TS_PACKET));
      total += offset + TS_PACKET - start;
    }
  }
  return Buffer.concat(parts);
}

/** PSI section body of a table whose packet starts a section (pointer_field handled). */
function psiSection(ts: Buffer, pid: number): Buffer {
  const payload = pidPayload(ts, pid, 1024);
  if (payload.length === 0) throw new Error(`no packets on PID ${pid}`);
  const start = 1 + payload[0]!;
  const length = ((payload[start + 1]! & 0x0f) << 8) | payload[start + 2]!;
  return payload.subarray(start, start + 3 + length);
}

/** Finds the H.264 video PID through PAT → PMT, then the first SPS NAL unit of that stream. */
export function avcCodecFromTransportStream(ts: Buffer): string {
  const pat = psiSection(ts, 0);
  const pmtPid = ((pat[10]! & 0x1f) << 8) | pat[11]!; // first program after the 8-byte header
  const pmt = psiSection(ts, pmtPid);
  const programInfoLength = ((pmt[10]! & 0x0f) << 8) | pmt[11]!;
  let videoPid: number | undefined;
  for (let at = 12 + programInfoLength; at + 5 <= pmt.length - 4; ) {
    const streamType = pmt[at]!;
    const pid = ((pmt[at + 1]! & 0x1f) << 8) | pmt[at + 2]!;
    if (streamType === 0x1b) {
      videoPid = pid;
      break;
    }
    at += 5 + (((pmt[at + 3]! & 0x0f) << 8) | pmt[at + 4]!);
  }
  if (videoPid === undefined) throw new Error('no H.264 stream in the transport stream');
  const es = pidPayload(ts, videoPid, 64 * 1024);
  for (let at = es.indexOf(Buffer.from([0, 0, 1])); at !== -1 && at + 6 < es.length; at = es.indexOf(Buffer.from([0, 0, 1]), at + 3)) {
    if ((es[at + 3]! & 0x1f) === 7) return avcString(es[at + 4]!, es[at + 5]!, es[at + 6]!);
  }
  throw new Error('no sequence parameter set in the first H.264 access units');
}
