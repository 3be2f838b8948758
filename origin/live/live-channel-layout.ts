// Where a live channel lives in the catalog directory, shared by the encoder that writes it and
// the origins that serve it: live/<id>/channel.json (listed in the catalog), master.m3u8, and
// <rendition>/index.m3u8 with seg-<msn>.ts beside it, or in Low-Latency mode init.mp4,
// seg-<msn>.m4s and its parts seg-<msn>.<part>.m4s.

export const CHANNEL_MARKER = 'channel.json';

/** What channel.json says; written by the encoder when it starts. */
export interface ChannelManifest {
  readonly id: string;
  readonly title: string;
  readonly format: 'ts' | 'fmp4';
  /** LL-HLS: the channel's playlists carry parts and answer blocking reloads. */
  readonly lowLatency?: boolean;
}
