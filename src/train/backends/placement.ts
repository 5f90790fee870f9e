/** Node labels that name a node's GPU model: NVIDIA GPU feature discovery, then the managed clouds' own. */
export const GPU_LABELS = [
  'nvidia.com/gpu.product',
  'cloud.google.com/gke-accelerator',
  'k8s.amazonaws.com/accelerator',
  'kubernetes.azure.com/accelerator',
  'amd.com/gpu.product-name',
] as const;

export function gpuFromLabels(labels: Record<string, string> | undefined): string | undefined {
  for (const key of GPU_LABELS) {
    const value = labels?.[key];
    if (value) return value;
  }
  return undefined;
}

/** `sha256:…` from a container status' imageID (`docker-pullable://repo@sha256:…`, `repo@sha256:…`, `sha256:…`). */
export function imageDigest(imageID: string | undefined): string | undefined {
  return /(sha256:[0-9a-f]{64})$/.exec(imageID ?? '')?.[1];
}
