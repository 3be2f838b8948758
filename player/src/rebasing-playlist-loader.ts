import Hls, { type LoaderCallbacks, type LoaderConfiguration, type LoaderContext, type PlaylistLoaderConstructor, type PlaylistLoaderContext } from 'hls.js';
import { DiscontinuityRebaser } from '../shared/discontinuity-rebase.js';

/**
 * hls.js's own playlist loader, with each media playlist's discontinuity sequence rebased before
 * hls.js parses it (see discontinuity-rebase.ts). One rebaser per hls.js instance, shared by every
 * playlist it loads, so renditions and pathways stay aligned.
 */
export function rebasingPlaylistLoader(): PlaylistLoaderConstructor {
  const rebaser = new DiscontinuityRebaser();
  const DefaultLoader = Hls.DefaultConfig.loader;
  return class RebasingPlaylistLoader extends DefaultLoader {
    override load(context: PlaylistLoaderContext, config: LoaderConfiguration, callbacks: LoaderCallbacks<PlaylistLoaderContext>): void {
      const { onSuccess } = callbacks;
      const rebasing: LoaderCallbacks<PlaylistLoaderContext> = {
        ...callbacks,
        onSuccess: (response, stats, loaded, networkDetails) => {
          if (typeof response.data === 'string') response.data = rebaser.rewrite(response.data);
          onSuccess(response, stats, loaded, networkDetails);
        },
      };
      super.load(context, config, rebasing as unknown as LoaderCallbacks<LoaderContext>);
    }
  } as unknown as PlaylistLoaderConstructor;
}
