// Where a live channel lives in the catalog directory, shared by the encoder that writes it and
// the origins that serve it: live/<id>/channel.json (listed in the catalog), master.m3u8, and
// <rendition>/index.m3u8 with seg-<msn>.ts beside it.

export const CHANNEL_MARKER = 'channel.json';

/** What channel.json says; written by the encoder when it starts. */
export interface ChannelManifest {
  readonly id: string;
  readonly title: string;
  readonly format: 'ts';
}
