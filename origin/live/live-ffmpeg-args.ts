import type { Rendition } from '../renditions.js';
import type { LiveInput } from './live-input.js';

export const LIVE_FRAME_RATE = 30;
export const LIVE_SAMPLE_RATE = 48_000;
/** Where each rung's finished segments are listed (one `file,start,end` line per segment). */
export const SEGMENT_LIST = 'segments.csv';

export interface LiveEncodePlan {
  readonly input: LiveInput;
  readonly rungs: readonly Rendition[];
  readonly segmentSeconds: number;
  readonly preset: string;
  /** Burn the wall clock (UTC) and the rung into a generated picture (needs drawtext). */
  readonly clockOverlay: boolean;
  /** Low-Latency HLS: fragmented MP4 with fragments of about this length, rung i to pipe fd 3 + i. */
  readonly partTargetMs?: number;
}

/** The first stdio descriptor a Low-Latency encode writes a rung to (rung i on LL_FIRST_PIPE + i). */
export const LL_FIRST_PIPE = 3;

/**
 * Where a rung's encode goes. Plain: MPEG-TS segments listed once complete. Low-Latency: one
 * fragmented MP4 stream (ftyp + moov, then a moof + mdat per fragment) cut at every keyframe and
 * whenever a fragment reaches the part target, so each fragment is one part.
 */
function rungOutput(plan: LiveEncodePlan, rung: Rendition, index: number): string[] {
  if (plan.partTargetMs !== undefined) {
    return [
      '-f', 'mp4', '-movflags', '+cmaf+frag_keyframe+empty_moov+default_base_moof+delay_moov',
      '-frag_duration', String(plan.partTargetMs * 1000), '-flush_packets', '1', `pipe:${LL_FIRST_PIPE + index}`,
    ];
  }
  return [
    '-f', 'segment', '-segment_time', String(plan.segmentSeconds), '-segment_format', 'mpegts', '-reset_timestamps', '0',
    '-segment_list', `${rung.name}/${SEGMENT_LIST}`, '-segment_list_type', 'csv',
    `${rung.name}/%d.ts`,
  ];
}

/** Input options: paced at real time (-re); a file loops for ever; a generated source gets a beeping tone. */
function inputArgs(input: LiveInput): string[] {
  if (input.kind === 'file') return ['-re', '-stream_loop', '-1', '-i', input.path, ...(input.probe.audio.length > 0 ? [] : ['-re', '-f', 'lavfi', '-i', `anullsrc=r=${LIVE_SAMPLE_RATE}:cl=stereo`])];
  return ['-re', '-f', 'lavfi', '-i', input.graph, '-re', '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=${LIVE_SAMPLE_RATE}`];
}

/**
 * One ffmpeg run that decodes the input once and writes every rung as MPEG-TS segments into
 * `<rung>/<n>.ts` (relative to ffmpeg's working directory), each listed in `<rung>/segments.csv`
 * once complete, or in Low-Latency mode as fragmented MP4 to a pipe per rung. Timestamps are rebuilt from the decoded frames, so a looping file never jumps
 * back: `fps` gives a constant frame rate that follows ffmpeg's loop offsets, and `aresample`
 * with `async` pads or trims audio to the same clock. Keyframes fall on the same instants in every
 * rung (every segment length, never elsewhere), so segment boundaries line up across renditions.
 */
export function liveEncodeArgs(plan: LiveEncodePlan): string[] {
  const { rungs, segmentSeconds } = plan;
  const videoIn = plan.input.kind === 'file' ? `[0:v:${plan.input.probe.video.index}]` : '[0:v:0]';
  const audioIn = plan.input.kind === 'file' && plan.input.probe.audio.length > 0 ? `[0:a:${plan.input.probe.audio[0]!.index}]` : '[1:a:0]';
  const fanOut = (kind: 'split' | 'asplit', prefix: string): string => (rungs.length === 1 ? `${kind === 'split' ? 'null' : 'anull'}[${prefix}0]` : `${kind}=${rungs.length}${rungs.map((_, i) => `[${prefix}${i}]`).join('')}`);
  const overlay = (rung: Rendition): string => {
    const size = Math.max(10, Math.round(rung.height / 12));
    return `,drawtext=text='%{gmtime\\:%T} UTC ${rung.name}':fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=${Math.round(size / 4)}:x=(w-tw)/2:y=h-th-${Math.round(rung.height / 10)}`;
  };
  const filters = [
    `${videoIn}fps=${LIVE_FRAME_RATE},${fanOut('split', 'src')}`,
    `${audioIn}aresample=${LIVE_SAMPLE_RATE}:async=1:first_pts=0,aformat=channel_layouts=stereo,${fanOut('asplit', 'aud')}`,
    ...rungs.map((rung, i) => `[src${i}]scale=${rung.width}:${rung.height}:flags=bicubic,setsar=1,format=yuv420p${plan.clockOverlay ? overlay(rung) : ''}[v${i}]`),
  ];
  const gop = String(LIVE_FRAME_RATE * segmentSeconds);
  const outputs = rungs.flatMap((rung, i) => [
    '-map', `[v${i}]`, '-map', `[aud${i}]`,
    // zerolatency (no lookahead, no B-frames) lets a part leave the encoder as soon as its frames are in.
    '-c:v', 'libx264', '-preset', plan.preset, ...(plan.partTargetMs === undefined ? [] : ['-tune', 'zerolatency']), '-profile:v', 'high', '-level:v', (rung.h264Level / 10).toFixed(1),
    '-b:v', String(rung.videoBitrate), '-maxrate', String(Math.round(rung.videoBitrate * 1.1)), '-bufsize', String(rung.videoBitrate * 2),
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`,
    '-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', String(rung.audioBitrate), '-ac', '2', '-ar', String(LIVE_SAMPLE_RATE),
    ...rungOutput(plan, rung, i),
  ]);
  return [...inputArgs(plan.input), '-filter_complex', filters.join(';'), ...outputs];
}

export interface ListedSegment {
  readonly file: string;
  /** Where the segment starts on the encoder's output timeline. */
  readonly startMs: number;
  readonly durationMs: number;
}

/** Complete `file,start,end` lines of a segment list; a trailing partial line is left for later. */
export function parseSegmentList(text: string): { readonly segments: readonly ListedSegment[]; readonly consumed: number } {
  const segments: ListedSegment[] = [];
  let consumed = 0;
  for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', consumed)) {
    const line = text.slice(consumed, newline).trim();
    consumed = newline + 1;
    const match = /^(\d{1,15}\.ts),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)$/.exec(line);
    if (!match) throw new Error(`unexpected segment list line: ${line.slice(0, 80)}`);
    const startMs = Math.round(Number(match[2]) * 1000);
    const durationMs = Math.round(Number(match[3]) * 1000) - startMs;
    if (durationMs > 0) segments.push({ file: match[1]!, startMs, durationMs });
  }
  return { segments, consumed };
}
