// The benchmark's data generator uses the forest's own seeded generator, from the build.
export { Rng } from '../dist/index.js';
