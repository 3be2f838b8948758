import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { buildPlayerBundle } from './player-bundle.js';

// Compiled location: dist/player/build/ → the package root is three levels up.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const outDir = join(root, 'dist', 'player-web');

const bundle = await buildPlayerBundle({ sourceDir: join(root, 'player', 'src'), outDir });
const sizes = await Promise.all(bundle.files.map(async (file) => `${file} ${Math.ceil((await stat(join(outDir, file))).size / 1024)} KiB`));
console.log(`player: built ${outDir}\n  ${sizes.join('\n  ')}`);
