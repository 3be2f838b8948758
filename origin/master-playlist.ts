export interface VariantStream {
  readonly uri: string;
  /** Peak segment bit rate, bits per second (RFC 8216 BANDWIDTH). */
  readonly bandwidth: number;
  readonly averageBandwidth: number;
  readonly width: number;
  readonly height: number;
  readonly frameRate: number;
  readonly codecs: string;
}

/** A master playlist listing variants from lowest to highest bandwidth. */
export function renderMasterPlaylist(variants: readonly VariantStream[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const variant of [...variants].sort((a, b) => a.bandwidth - b.bandwidth)) {
    lines.push(
      `#EXT-X-STREAM-INF:BANDWIDTH=${variant.bandwidth},AVERAGE-BANDWIDTH=${variant.averageBandwidth},` +
        `RESOLUTION=${variant.width}x${variant.height},FRAME-RATE=${variant.frameRate.toFixed(3)},CODECS="${variant.codecs}"`,
      variant.uri,
    );
  }
  return `${lines.join('\n')}\n`;
}
