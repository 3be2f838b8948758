export interface VariantStream {
  readonly uri: string;
  /** Peak segment bit rate, bits per second (RFC 8216 BANDWIDTH), including the largest audio rendition. */
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  readonly codecs: string;
}

/** An EXT-X-MEDIA rendition (alternative audio or WebVTT subtitles). */
export interface MediaRendition {
  readonly type: 'AUDIO' | 'SUBTITLES';
  readonly groupId: string;
  /** Unique within its group; what a player shows. */
  readonly name: string;
  /** RFC 5646 tag, if known. */
  readonly language: string | undefined;
  readonly isDefault: boolean;
  readonly uri: string;
  /** Audio channel count (CHANNELS). */
  readonly channels?: number;
}

/** Variants that play with rendition groups: every variant references each group of its type. */
export interface RenditionGroups {
  readonly media: readonly MediaRendition[];
}

function quoted(value: string): string {
  if (/["\r\n]/.test(value)) throw new TypeError(`a playlist attribute cannot hold a quote or newline: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

function mediaLine(rendition: MediaRendition): string {
  const attributes = [
    `TYPE=${rendition.type}`,
    `GROUP-ID=${quoted(rendition.groupId)}`,
    `NAME=${quoted(rendition.name)}`,
    ...(rendition.language ? [`LANGUAGE=${quoted(rendition.language)}`] : []),
    `DEFAULT=${rendition.isDefault ? 'YES' : 'NO'}`,
    'AUTOSELECT=YES',
    ...(rendition.type === 'SUBTITLES' ? ['FORCED=NO'] : []),
    ...(rendition.channels ? [`CHANNELS=${quoted(String(rendition.channels))}`] : []),
    `URI=${quoted(rendition.uri)}`,
  ];
  return `#EXT-X-MEDIA:${attributes.join(',')}`;
}

/**
 * A master playlist listing the rendition groups (RFC 8216 §4.3.4.1), then the variants from
 * lowest to highest bandwidth, each naming the audio and subtitle groups it plays with.
 */
export function renderMasterPlaylist(variants: readonly VariantStream[], groups: RenditionGroups = { media: [] }): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  lines.push(...groups.media.map(mediaLine));
  const audioGroup = groups.media.find((rendition) => rendition.type === 'AUDIO')?.groupId;
  const subtitleGroup = groups.media.find((rendition) => rendition.type === 'SUBTITLES')?.groupId;
  for (const variant of [...variants].sort((a, b) => a.bandwidth - b.bandwidth)) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${variant.bandwidth},AVERAGE-BANDWIDTH=${variant.averageBandwidth},` +
        `RESOLUTION=${variant.width}x${variant.height},FRAME-RATE=${variant.frameRate.toFixed(3)},CODECS="${variant.codecs}"` +
        (audioGroup ? `,AUDIO=${quoted(audioGroup)}` : '') +
        (subtitleGroup ? `,SUBTITLES=${quoted(subtitleGroup)}` : ''),
      variant.uri,
    );
  }
  return `${lines.join('\n')}\n`;
}
