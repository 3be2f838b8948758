import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (apt package `chromium`); override with STREAMEDGE_CHROMIUM. */
export const CHROMIUM_PATH = process.env.STREAMEDGE_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The page starts muted; this only spares tests a click if a build ever gets stricter.
  '--autoplay-policy=no-user-gesture-required',
];

/** Headless Chromium with a fresh temporary profile (playwright creates and removes it), plus `extraArgs`. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 30_000 });
}
