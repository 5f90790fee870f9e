import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface UploadResult {
  /** GitHub's artifact id, when uploaded there. */
  id?: number;
  size?: number;
  /** Where it went, for the log: a folder or the artifact name. */
  location: string;
}

/** Uploads `files` (absolute, under `root`) as one artifact; paths inside it are relative to `root`. */
export interface ArtifactUploader {
  upload(name: string, files: string[], root: string): Promise<UploadResult>;
}

/**
 * The CLI's uploader: copies the files into `<dir>/<name>/`, assembled in a temporary folder and renamed
 * into place, so a failed copy leaves no half artifact and a re-run replaces the previous one whole.
 */
export function localArtifactUploader(dir: string): ArtifactUploader {
  return {
    async upload(name, files, root) {
      const target = join(dir, name);
      const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
      try {
        for (const file of files) {
          const to = join(staging, relative(root, file));
          mkdirSync(dirname(to), { recursive: true });
          copyFileSync(file, to);
        }
        mkdirSync(staging, { recursive: true });
        const old = `${target}.old-${process.pid}-${Date.now()}`;
        if (existsSync(target)) renameSync(target, old);
        renameSync(staging, target);
        rmSync(old, { recursive: true, force: true });
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
      return { location: target };
    },
  };
}
