export { loadKubeConfig, type KubeConfigOptions, type KubeConfigSource, type LoadedKubeConfig } from './config.ts';
export {
  KubeClient,
  PATCH_CONTENT_TYPES,
  type KubeClientOptions,
  type ListOptions,
  type LogOptions,
  type PatchType,
  type WatchEnd,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from './client.ts';
export { KubeApiError, KubeUnreachableError, isNotFound } from './errors.ts';
export { Reflector, type ReflectorEvent, type ReflectorOptions, type RelistReason } from './reflector.ts';
export { Applications, Deployments, Events, InferenceServices, Jobs, Nodes, Pods, ReplicaSets, resourcePath, resourceType, type PathParts, type ResourceType } from './resources.ts';
export type { Condition, ContainerState, ContainerStatus, Deployment, KubeObject, KubeStatus, ObjectList, ObjectMeta, Pod } from './types.ts';
