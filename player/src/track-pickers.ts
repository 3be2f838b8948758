import Hls from 'hls.js';

const OFF = '-1';

function fill(select: HTMLSelectElement, options: readonly { value: string; text: string }[], selected: string): void {
  select.replaceChildren(
    ...options.map(({ value, text }) => {
      const option = document.createElement('option');
      option.value = value;
      option.textContent = text;
      option.selected = value === selected;
      return option;
    }),
  );
}

/**
 * The audio and subtitle choices of the stream in play (hls.js `audioTracks`/`subtitleTracks`):
 * each picker shows only when there is a choice to make, and its `data-active` names the track
 * hls.js has switched to.
 */
export class TrackPickers {
  readonly #audio: HTMLSelectElement;
  readonly #subtitles: HTMLSelectElement;
  #hls: Hls | null = null;

  constructor(audio: HTMLSelectElement, subtitles: HTMLSelectElement) {
    this.#audio = audio;
    this.#subtitles = subtitles;
    audio.addEventListener('change', () => {
      if (this.#hls) this.#hls.audioTrack = Number(audio.value);
    });
    subtitles.addEventListener('change', () => {
      if (!this.#hls) return;
      this.#hls.subtitleDisplay = subtitles.value !== OFF;
      this.#hls.subtitleTrack = Number(subtitles.value);
    });
    this.#render();
  }

  /** Follows a new hls.js instance (each load or recovery makes one). */
  attach(hls: Hls): void {
    this.#hls = hls;
    const render = (): void => this.#render();
    hls.on(Hls.Events.MANIFEST_PARSED, render);
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, render);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, render);
    hls.on(Hls.Events.AUDIO_TRACK_SWITCHED, render);
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, render);
    hls.on(Hls.Events.DESTROYING, () => {
      if (this.#hls === hls) this.#hls = null;
      this.#render();
    });
  }

  #render(): void {
    const hls = this.#hls;
    const audioTracks = hls?.audioTracks ?? [];
    const subtitleTracks = hls?.subtitleTracks ?? [];
    fill(this.#audio, audioTracks.map((track) => ({ value: String(track.id), text: track.name })), String(hls?.audioTrack ?? OFF));
    this.#audio.dataset.active = String(hls?.audioTrack ?? OFF);
    this.#audio.closest<HTMLElement>('.track-choice')!.hidden = audioTracks.length < 2;
    fill(this.#subtitles, [{ value: OFF, text: 'Off' }, ...subtitleTracks.map((track) => ({ value: String(track.id), text: track.name }))], String(hls?.subtitleTrack ?? OFF));
    this.#subtitles.dataset.active = String(hls?.subtitleTrack ?? OFF);
    this.#subtitles.closest<HTMLElement>('.track-choice')!.hidden = subtitleTracks.length === 0;
  }
}
