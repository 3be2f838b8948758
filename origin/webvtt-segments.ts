// Subtitles as HLS wants them: a WebVTT file cut into segments of the video's length, each with the
// X-TIMESTAMP-MAP that ties cue time 0 to the media's first timestamp, and a VOD media playlist.

export interface WebVttCue {
  readonly startMs: number;
  readonly endMs: number;
  /** The timing line's settings (position, align…), kept as written. */
  readonly settings: string;
  readonly text: string;
}

export class WebVttError extends Error {
  override readonly name = 'WebVttError';
}

const TIMESTAMP = /^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$/;

function parseTimestamp(text: string): number | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, hours, minutes, seconds, millis] = match;
  return ((Number(hours ?? 0) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000 + Number(millis);
}

export function formatTimestamp(ms: number): string {
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** Parses the cues of a WebVTT file (NOTE, STYLE and REGION blocks are dropped); rejects what is not WebVTT. */
export function parseWebVtt(text: string): WebVttCue[] {
  const body = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (!/^WEBVTT(?:[ \t]|\n|$)/.test(body)) throw new WebVttError('not a WebVTT file (it must start with "WEBVTT")');
  const cues: WebVttCue[] = [];
  for (const block of body.split(/\n{2,}/).slice(1)) {
    const lines = block.split('\n').filter((line, index) => index > 0 || line.trim() !== '');
    if (lines.length === 0 || /^(NOTE|STYLE|REGION)(?:\s|$)/.test(lines[0]!)) continue;
    const timingAt = lines[0]!.includes('-->') ? 0 : 1;
    const timing = lines[timingAt];
    const match = timing === undefined ? null : /^(\S+)[ \t]+-->[ \t]+(\S+)(.*)$/.exec(timing);
    const startMs = match ? parseTimestamp(match[1]!) : undefined;
    const endMs = match ? parseTimestamp(match[2]!) : undefined;
    if (startMs === undefined || endMs === undefined || endMs < startMs) {
      throw new WebVttError(`bad cue timing: "${(timing ?? lines[0]!).slice(0, 60)}"`);
    }
    cues.push({ startMs, endMs, settings: match![3]!.trim(), text: lines.slice(timingAt + 1).join('\n').replace(/\n+$/, '') });
  }
  return cues;
}

export interface WebVttSegmentation {
  /** Segment length in seconds (the video's). */
  readonly segmentSeconds: number;
  readonly durationSeconds: number;
  /** The media's first presentation timestamp on the 90 kHz clock (MPEG-TS starts at 1.4 s in ffmpeg). */
  readonly mpegTsOffset: number;
}

export interface SegmentedWebVtt {
  readonly playlist: string;
  readonly segments: readonly { readonly name: string; readonly text: string }[];
}

/**
 * Cuts cues into segments of `segmentSeconds` covering the whole duration (empty segments too, so
 * the subtitle timeline matches the video's); a cue spanning a boundary is in both segments.
 */
export function segmentWebVtt(cues: readonly WebVttCue[], options: WebVttSegmentation): SegmentedWebVtt {
  const { segmentSeconds, durationSeconds, mpegTsOffset } = options;
  if (!(segmentSeconds > 0) || !(durationSeconds > 0)) throw new TypeError('segmentWebVtt: segment length and duration must be positive');
  if (!Number.isInteger(mpegTsOffset) || mpegTsOffset < 0) throw new TypeError('segmentWebVtt: mpegTsOffset must be a whole number ≥ 0');
  const totalMs = Math.round(durationSeconds * 1000);
  const stepMs = Math.round(segmentSeconds * 1000);
  const header = `WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:${mpegTsOffset},LOCAL:00:00:00.000\n`;
  const segments: { name: string; text: string }[] = [];
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${Math.ceil(segmentSeconds)}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD'];
  for (let startMs = 0, n = 0; startMs < totalMs; startMs += stepMs, n++) {
    const endMs = Math.min(startMs + stepMs, totalMs);
    const inside = cues.filter((cue) => cue.startMs < endMs && cue.endMs > startMs);
    const blocks = inside.map((cue) => `${formatTimestamp(cue.startMs)} --> ${formatTimestamp(cue.endMs)}${cue.settings ? ` ${cue.settings}` : ''}\n${cue.text}`);
    const name = `seg-${String(n).padStart(5, '0')}.vtt`;
    segments.push({ name, text: blocks.length > 0 ? `${header}\n${blocks.join('\n\n')}\n` : header });
    playlist.push(`#EXTINF:${((endMs - startMs) / 1000).toFixed(3)},`, name);
  }
  playlist.push('#EXT-X-ENDLIST');
  return { playlist: `${playlist.join('\n')}\n`, segments };
}
