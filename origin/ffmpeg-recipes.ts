import { AUDIO_SAMPLE_RATE, FRAME_RATE, SEGMENT_SECONDS, type Rendition, type SegmentFormat } from './renditions.js';

/**
 * One rendition encoded once (H.264 High + AAC-LC in MP4) from a synthetic picture and tone, with a
 * keyframe exactly every segment duration and never elsewhere, so every packaging cuts the same
 * segments and segment boundaries line up across renditions.
 */
export function encodeRenditionArgs(rendition: Rendition, durationSeconds: number, drawtext: boolean, output: string): string[] {
  const { width, height } = rendition;
  const fontSize = Math.round(height / 12);
  // The rendition name and stream time burnt in make it obvious in the player what is playing.
  const overlay = `drawtext=text='streamedge ${rendition.name} %{pts\\:hms}':fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=${Math.round(fontSize / 4)}:x=(w-tw)/2:y=h-th-${Math.round(height / 10)}`;
  const gop = String(FRAME_RATE * SEGMENT_SECONDS);
  return [
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${FRAME_RATE}:duration=${durationSeconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:sample_rate=${AUDIO_SAMPLE_RATE}:duration=${durationSeconds}`,
    ...(drawtext ? ['-vf', overlay] : []),
    '-map', '0:v:0', '-map', '1:a:0',
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-level:v', (rendition.h264Level / 10).toFixed(1),
    '-pix_fmt', 'yuv420p',
    '-b:v', String(rendition.videoBitrate), '-maxrate', String(Math.round(rendition.videoBitrate * 1.1)),
    '-bufsize', String(rendition.videoBitrate * 2),
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`,
    '-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', String(rendition.audioBitrate), '-ac', '2', '-ar', String(AUDIO_SAMPLE_RATE),
    '-f', 'mp4', '-y', output,
  ];
}

/** Packages an encoded rendition as a VOD HLS media playlist without re-encoding (stream copy). */
export function packageHlsArgs(input: string, format: SegmentFormat): string[] {
  return [
    '-i', input,
    '-map', '0', '-c', 'copy',
    '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
    '-hls_flags', 'independent_segments',
    ...(format === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename', `seg-%05d.${format === 'fmp4' ? 'm4s' : 'ts'}`,
    'index.m3u8',
  ];
}

/** What one `streamedge package` encode makes from its source. */
export interface SourceEncodePlan {
  readonly input: string;
  /** The source's video stream (`0:v:N`) and its frame rate, kept. */
  readonly videoIndex: number;
  readonly frameRate: number;
  readonly rungs: readonly { readonly name: string; readonly width: number; readonly height: number; readonly videoBitrate: number }[];
  /** Source audio streams (`0:a:N`), each written to the directory named. */
  readonly audio: readonly { readonly index: number; readonly name: string }[];
  readonly format: SegmentFormat;
  readonly segmentSeconds: number;
  readonly preset: string;
}

/**
 * Decodes the source once and encodes every rung (H.264, scaled, never upscaled by the caller's
 * ladder) and every audio track (AAC-LC stereo) in one ffmpeg run, writing one VOD media playlist
 * per stream into `<name>/index.m3u8`. Keyframes are forced on the same timestamps in every rung
 * (every segment length, never elsewhere), so segment boundaries line up across renditions.
 */
export function packageSourceArgs(plan: SourceEncodePlan): string[] {
  const { rungs, audio, format, segmentSeconds } = plan;
  const split = rungs.length === 1 ? '[src0]' : rungs.map((_, i) => `[src${i}]`).join('');
  const filters = [
    `[0:v:${plan.videoIndex}]${rungs.length === 1 ? 'null' : `split=${rungs.length}`}${split}`,
    ...rungs.map((rung, i) => `[src${i}]scale=${rung.width}:${rung.height}:flags=bicubic,setsar=1,format=yuv420p[out${i}]`),
  ];
  const gop = String(Math.max(1, Math.round(plan.frameRate * segmentSeconds)));
  const perRung = rungs.flatMap((rung, i) => [
    `-b:v:${i}`, String(rung.videoBitrate), `-maxrate:v:${i}`, String(Math.round(rung.videoBitrate * 1.1)), `-bufsize:v:${i}`, String(rung.videoBitrate * 2),
  ]);
  const streamMap = [...rungs.map((rung, i) => `v:${i},name:${rung.name}`), ...audio.map((track, i) => `a:${i},name:${track.name}`)].join(' ');
  const extension = format === 'fmp4' ? 'm4s' : 'ts';
  return [
    '-i', plan.input,
    '-filter_complex', filters.join(';'),
    ...rungs.flatMap((_, i) => ['-map', `[out${i}]`]),
    ...audio.flatMap((track) => ['-map', `0:a:${track.index}`]),
    '-c:v', 'libx264', '-preset', plan.preset, '-profile:v', 'high', ...perRung,
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0', '-force_key_frames', `expr:gte(t,n_forced*${segmentSeconds})`,
    ...(audio.length > 0 ? ['-c:a', 'aac', '-profile:a', 'aac_low', '-b:a', '128k', '-ac', '2', '-ar', String(AUDIO_SAMPLE_RATE)] : []),
    '-f', 'hls', '-hls_time', String(segmentSeconds), '-hls_playlist_type', 'vod', '-hls_list_size', '0',
    '-hls_flags', 'independent_segments',
    ...(format === 'fmp4' ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename', `%v/seg-%05d.${extension}`,
    '-var_stream_map', streamMap,
    '%v/index.m3u8',
  ];
}

/** Converts the source's text subtitle streams (`0:s:N`) to one WebVTT file each. */
export function extractSubtitlesArgs(input: string, tracks: readonly { readonly index: number; readonly output: string }[]): string[] {
  return ['-i', input, ...tracks.flatMap((track) => ['-map', `0:s:${track.index}`, '-c:s', 'webvtt', '-f', 'webvtt', '-y', track.output])];
}
