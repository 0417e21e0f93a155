// The kube-controller-manager controllers whose work a client sees happen after its own request:
//   - the service account controller (kubernetes pkg/controller/serviceaccount/
//     serviceaccounts_controller.go): when a namespace is added, or a service account in it is
//     deleted, it creates the namespace's `default` ServiceAccount if it is missing, only in an
//     Active namespace (DefaultServiceAccountsControllerOptions: the one account "default");
//   - the namespace controller (pkg/controller/namespace): a deleted namespace is first Terminating
//     (deletionTimestamp set, status.phase Terminating: pkg/registry/core/namespace/storage/
//     storage.go), its content is deleted, then the namespace itself.
// On a real cluster both run some time after the request that triggered them: a client that
// creates a namespace and at once patches its `default` service account can meet a 404. How long
// after is state.kube.controllers.serviceAccountDelayMs / namespaceDeletionDelayMs (0 or unset:
// at once, before the triggering request is answered).
import { timestamp, ordered } from './objects.ts';
import { dropNamespaceContent, namespacePhase, nextResourceVersion } from './storage.ts';
import type { EmuContext, KubeObject, KubeState } from '../types.ts';

/** Run `work` after `ms` (at once when 0), unless the state was replaced meanwhile (a reset); timers never hold the process open. */
function later(ctx: EmuContext, kube: KubeState, ms: number | undefined, work: () => void): void {
  if (!ms || ms <= 0) return work();
  const timer = setTimeout(() => {
    if (ctx.state.kube === kube) work();
  }, ms);
  timer.unref();
}

/** syncNamespace: the `default` service account of an Active namespace, created when it is missing. */
function ensureDefaultServiceAccount(ctx: EmuContext, kube: KubeState, ns: string): void {
  if (namespacePhase(kube, ns) !== 'Active') return;
  const accounts = (kube.serviceaccounts[ns] ??= {});
  if (accounts.default) return;
  accounts.default = ordered({
    kind: 'ServiceAccount',
    apiVersion: 'v1',
    metadata: { name: 'default', namespace: ns, uid: ctx.newGuid(), resourceVersion: nextResourceVersion(kube), creationTimestamp: timestamp(ctx) },
  });
}

/** A namespace was created: the service account controller will give it its `default` service account. */
export function namespaceAdded(ctx: EmuContext, kube: KubeState, ns: string): void {
  kube.secrets[ns] ??= {};
  later(ctx, kube, kube.controllers?.serviceAccountDelayMs, () => ensureDefaultServiceAccount(ctx, kube, ns));
}

/** A service account was deleted: the controller recreates `default`. */
export function serviceAccountDeleted(ctx: EmuContext, kube: KubeState, ns: string, name: string): void {
  if (name === 'default') later(ctx, kube, kube.controllers?.serviceAccountDelayMs, () => ensureDefaultServiceAccount(ctx, kube, ns));
}

/** DELETE of an Active namespace: it turns Terminating at once; the namespace controller then removes its content and it. */
export function deleteNamespace(ctx: EmuContext, kube: KubeState, ns: KubeObject, isDryRun: boolean): KubeObject {
  const terminating = structuredClone(ns);
  terminating.metadata.deletionTimestamp = timestamp(ctx);
  terminating.status = { ...((terminating.status as Record<string, unknown>) ?? {}), phase: 'Terminating' };
  if (isDryRun) return terminating;
  const name = ns.metadata.name;
  terminating.metadata.resourceVersion = nextResourceVersion(kube);
  kube.namespaces[name] = ordered(terminating);
  later(ctx, kube, kube.controllers?.namespaceDeletionDelayMs, () => {
    if (kube.namespaces[name]?.metadata.uid !== ns.metadata.uid) return;
    dropNamespaceContent(kube, name);
    delete kube.namespaces[name];
    nextResourceVersion(kube);
  });
  return terminating;
}
