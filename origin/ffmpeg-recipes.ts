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
