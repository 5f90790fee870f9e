import { deploymentMode, findCondition, KNATIVE_REVISION_LABEL, predictorStorageUri, type ComponentStatus, type InferenceService } from '../kube/kserve.ts';
import type { Deployment, Pod } from '../kube/types.ts';
import type { Check } from './check.ts';
import { isReady, isTerminating, matchesLabels, sourceUri, stuckContainer } from './pods.ts';

export interface InferenceServiceSnapshot {
  isvc: InferenceService | undefined;
  /** The pods labelled serving.kserve.io/inferenceservice=<name>. */
  pods: Pod[];
  /** The Deployments with that label (Standard mode). */
  deployments: Deployment[];
}

export interface InferenceServiceExpectation {
  namespace: string;
  name: string;
  storageUri: string;
}

export interface InferenceServiceVerdict {
  checks: Check[];
  failure?: string;
  revision?: string;
  url?: string;
}

/**
 * Whether the InferenceService serves `storageUri` through what its current spec created. KServe's own
 * signals are not enough: `Ready` may be left over from the previous spec (in Knative mode the old revision
 * serves while the new one starts) and `status.observedGeneration` is the child's counter (kserve#6081), so it
 * is never compared with metadata.generation. What counts is what the new spec made: in Knative mode the latest
 * created revision, whose pods carry the new storage-initializer source URI, is the latest ready one and gets
 * the traffic share the spec asks for; in Standard mode the predictor Deployment has rolled out its own
 * generation and every serving pod carries the new source URI.
 */
export function checkInferenceService(snapshot: InferenceServiceSnapshot, expected: InferenceServiceExpectation): InferenceServiceVerdict {
  const { isvc } = snapshot;
  if (!isvc) return { checks: [{ name: 'spec', ok: false, detail: `InferenceService ${expected.namespace}/${expected.name} does not exist` }] };
  const generation = isvc.metadata.generation ?? 0;
  const served = predictorStorageUri(isvc);
  const specOk = served === expected.storageUri;
  const checks: Check[] = [
    { name: 'spec', ok: specOk, detail: specOk ? `generation ${generation} serves ${served}` : `generation ${generation} serves ${served ?? 'no storageUri'}, not ${expected.storageUri}` },
    readyCheck(isvc),
  ];
  const mode = deploymentMode(isvc);
  if (mode === 'ModelMesh') {
    return { checks, failure: 'the InferenceService runs in ModelMesh mode, which rollout does not verify (Knative and Standard only)' };
  }
  const pods = snapshot.pods.filter((p) => !isTerminating(p));
  const result = mode === 'Knative' ? knative(isvc, pods, expected) : standard(pods, snapshot.deployments, expected);
  checks.push(...result.checks);
  const failure = specOk ? (kserveFailure(isvc, result.created) ?? podFailure(pods, expected.storageUri)) : undefined;
  const url = result.url ?? isvc.status?.url ?? isvc.status?.address?.url;
  return { checks, ...(failure ? { failure } : {}), ...(result.revision ? { revision: result.revision } : {}), ...(url ? { url } : {}) };
}

function readyCheck(isvc: InferenceService): Check {
  const conditions = isvc.status?.conditions;
  const wanted = ['Ready', 'PredictorReady'].map((type) => ({ type, condition: findCondition(conditions, type) }));
  const notTrue = wanted.filter((w) => w.condition?.status !== 'True');
  if (notTrue.length === 0) return { name: 'ready', ok: true, detail: 'Ready and PredictorReady are True' };
  const describe = ({ type, condition }: (typeof wanted)[number]) =>
    condition ? `${type} is ${condition.status}${condition.reason ? ` (${condition.reason}${condition.message ? `: ${condition.message}` : ''})` : ''}` : `${type} is not reported`;
  return { name: 'ready', ok: false, detail: notTrue.map(describe).join('; ') };
}

interface ModeResult {
  checks: Check[];
  revision?: string;
  /** Knative: the latest created revision when it was made for this spec. */
  created?: string;
  /** Knative with tag routing: the new revision's own URL, so the smoke inference reaches it and not the previous one. */
  url?: string;
}

function knative(isvc: InferenceService, pods: Pod[], expected: InferenceServiceExpectation): ModeResult {
  const predictor: ComponentStatus = isvc.status?.components?.predictor ?? {};
  const created = predictor.latestCreatedRevision;
  const ofCreated = pods.filter((p) => p.metadata.labels?.[KNATIVE_REVISION_LABEL] === created);
  // A revision's pods carry its storageUri: that is how a revision made for this spec is told from an older one.
  const ours = created !== undefined && ofCreated.some((p) => sourceUri(p) === expected.storageUri);
  let revision: Check;
  if (!created) revision = { name: 'revision', ok: false, detail: 'KServe has created no revision yet' };
  else if (!ours) {
    revision = {
      name: 'revision',
      ok: false,
      detail:
        ofCreated.length === 0
          ? `the latest created revision ${created} has no pods yet`
          : `the latest created revision ${created} serves ${sourceUri(ofCreated[0] as Pod) ?? 'no source URI'}: KServe has not created a revision for this spec yet`,
    };
  } else if (predictor.latestReadyRevision !== created) {
    revision = { name: 'revision', ok: false, detail: `revision ${created} (this spec) is not ready yet; ${predictor.latestReadyRevision ?? 'no revision'} is the latest ready` };
  } else revision = { name: 'revision', ok: true, detail: `revision ${created}, created for this spec, is the latest ready` };

  const canary = isvc.spec?.predictor?.canaryTrafficPercent;
  const rolledOut = predictor.latestRolledoutRevision;
  // KServe splits traffic only while a previous rolled-out revision exists (ksvc_reconciler.go).
  const wanted = canary !== undefined && rolledOut && rolledOut !== created ? canary : 100;
  const share = (predictor.traffic ?? [])
    .filter((t) => t.revisionName === created || (t.latestRevision === true && predictor.latestReadyRevision === created && t.revisionName === undefined))
    .reduce((sum, t) => sum + (t.percent ?? 0), 0);
  const traffic: Check =
    wanted === 0
      ? { name: 'traffic', ok: false, detail: `canaryTrafficPercent is 0: the spec sends no traffic to ${created ?? 'the new revision'}` }
      : { name: 'traffic', ok: ours && share === wanted, detail: ours ? `${share}% of traffic goes to ${created} (the spec asks for ${wanted}%)` : `waiting for a revision of this spec (the spec asks for ${wanted}% of traffic)` };

  const serving: Check = revision.ok
    ? podsCheck(ofCreated, expected.storageUri, `revision ${created}`)
    : { name: 'pods', ok: false, detail: ours ? `waiting for revision ${created} to be ready` : 'waiting for a revision of this spec' };
  const tagged = ours && canary !== undefined ? predictor.traffic?.find((t) => t.revisionName === created && t.url)?.url : undefined;
  return { checks: [revision, traffic, serving], ...(ours && created ? { revision: created, created } : {}), ...(tagged ? { url: tagged } : {}) };
}

function standard(pods: Pod[], deployments: Deployment[], expected: InferenceServiceExpectation): ModeResult {
  const deployment = predictorDeployment(deployments, expected.name);
  if (!deployment) {
    return { checks: [{ name: 'deployment', ok: false, detail: `no predictor Deployment for ${expected.name} yet` }, podsCheck([], expected.storageUri, 'the predictor Deployment')] };
  }
  const name = deployment.metadata.name;
  const want = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  const generation = deployment.metadata.generation ?? 0;
  let check: Check;
  if ((s.observedGeneration ?? 0) < generation) check = { name: 'deployment', ok: false, detail: `${name} has not observed its generation ${generation} yet (observed ${s.observedGeneration ?? 0})` };
  else if (s.updatedReplicas !== want || s.replicas !== want || s.availableReplicas !== want) {
    check = { name: 'deployment', ok: false, detail: `${name}: ${s.updatedReplicas ?? 0} updated, ${s.availableReplicas ?? 0} available, ${s.replicas ?? 0} replicas of ${want}` };
  } else check = { name: 'deployment', ok: true, detail: `${name} rolled out generation ${generation}: ${want}/${want} updated and available` };
  const serving = pods.filter((p) => matchesLabels(p, deployment.spec?.selector?.matchLabels));
  const hashes = new Set(serving.map((p) => p.metadata.labels?.['pod-template-hash']).filter(Boolean));
  const revision = hashes.size === 1 && check.ok ? `${name}-${[...hashes][0]}` : undefined;
  return { checks: [check, podsCheck(serving, expected.storageUri, name)], ...(revision ? { revision } : {}) };
}

/** `<name>-predictor` (KServe ≥ 0.9), `<name>-predictor-default` (older), else the only predictor Deployment. */
function predictorDeployment(deployments: Deployment[], name: string): Deployment | undefined {
  for (const wanted of [`${name}-predictor`, `${name}-predictor-default`]) {
    const found = deployments.find((d) => d.metadata.name === wanted);
    if (found) return found;
  }
  const predictors = deployments.filter((d) => d.metadata.labels?.component === 'predictor');
  return predictors.length === 1 ? predictors[0] : undefined;
}

function podsCheck(serving: Pod[], storageUri: string, of: string): Check {
  if (serving.length === 0) return { name: 'pods', ok: false, detail: `no serving pods of ${of} yet` };
  const foreign = serving.find((p) => sourceUri(p) !== storageUri);
  if (foreign) return { name: 'pods', ok: false, detail: `pod ${foreign.metadata.name} of ${of} serves ${sourceUri(foreign) ?? 'no source URI'}, not ${storageUri}` };
  const ready = serving.filter(isReady).length;
  return { name: 'pods', ok: ready === serving.length, detail: `${ready}/${serving.length} pods of ${of} ready, serving ${storageUri}` };
}

/** KServe's own failure states for the current spec, in its words. */
function kserveFailure(isvc: InferenceService, created: string | undefined): string | undefined {
  const model = isvc.status?.modelStatus;
  if (!model) return undefined;
  const info = model.lastFailureInfo;
  const words = info ? `: ${[info.reason, info.message?.trim()].filter(Boolean).join(': ')}${info.exitCode !== undefined ? ` (exit code ${info.exitCode}${info.location ? ` in ${info.location}` : ''})` : ''}` : '';
  if (model.transitionStatus === 'BlockedByFailedLoad' || model.transitionStatus === 'InvalidSpec') return `KServe reports ${model.transitionStatus}${words}`;
  if (model.states?.targetModelState === 'FailedToLoad' || model.states?.activeModelState === 'FailedToLoad') return `KServe reports the model FailedToLoad${words}`;
  if (info && created && info.modelRevisionName === created) return `KServe reports a failure of revision ${created}${words}`;
  return undefined;
}

/** A pod of the new spec stuck in ImagePullBackOff, CrashLoopBackOff and the like. */
function podFailure(pods: Pod[], storageUri: string): string | undefined {
  for (const pod of pods) {
    if (sourceUri(pod) !== storageUri) continue;
    const stuck = stuckContainer(pod);
    if (stuck) return stuck;
  }
  return undefined;
}
