/** Public surface of the train core, for the CLI, the action and the demo. */
export { runTraining, childEnv, type TrainSettings, type TrainDeps, type TrainResult } from './train.ts';
export { trainSettings, parseDuration, TRAIN_DEFAULTS, type RawTrainOptions } from './settings.ts';
export { parseCommand, splitWords } from './command-line.ts';
export { localArtifactUploader, type ArtifactUploader, type UploadResult } from './artifact.ts';
export { artifactName, legFromMatrix, readDataVersions, readParams, sourceFromEnv, RUN_SCHEMA, type RunRecord, type DataVersion, type Source } from './record.ts';
