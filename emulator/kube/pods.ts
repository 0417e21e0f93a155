// Pods and Events in the emulated API server: what kube-apiserver 1.32 validates on the Pod fields
// the action's probe uses (pkg/apis/core/validation: ValidatePodCreate / ValidatePodSpec /
// validateContainers / ValidatePodSecurityContext / validateImagePullSecrets, the messages in the
// apimachinery field.Error form), what it defaults on create (a Pending status: the registry's
// PrepareForCreate resets status; the scheduler, here the kubelet stand-in, fills it in), and that
// a Pod's spec is immutable but for its images and activeDeadlineSeconds (ValidatePodUpdate).
// Fields the action does not use are stored as given, not validated.
import { isObj, deepEqual } from './schema.ts';
import type { FieldError, Obj } from './status.ts';
import { q } from './status.ts';
import type { KubeObject } from '../types.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const required = (field: string, detail = 'Required value'): FieldError => ({ field, type: 'FieldValueRequired', detail });
const invalidValue = (field: string, value: unknown, why: string): FieldError => ({
  field,
  type: 'FieldValueInvalid',
  detail: `Invalid value: ${typeof value === 'string' ? q(value) : JSON.stringify(value)}: ${why}`,
});
const notSupported = (field: string, value: unknown, allowed: string[]): FieldError => ({
  field,
  type: 'FieldValueNotSupported',
  detail: `Unsupported value: ${q(String(value))}: supported values: ${allowed.map((a) => q(a)).join(', ')}`,
});
const wrongType = (field: string, value: unknown, type: string): FieldError => invalidValue(field, value, `must be ${type}`);

const POLICIES = ['Always', 'IfNotPresent', 'Never'];
const RESTART = ['Always', 'OnFailure', 'Never'];
const SECCOMP = ['RuntimeDefault', 'Unconfined', 'Localhost'];

function boolField(errs: FieldError[], obj: Obj, key: string, path: string): void {
  if (obj[key] !== undefined && typeof obj[key] !== 'boolean') errs.push(wrongType(`${path}.${key}`, obj[key], 'a boolean'));
}

function intField(errs: FieldError[], obj: Obj, key: string, path: string, min: number, why: string): void {
  const v = obj[key];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) errs.push(wrongType(`${path}.${key}`, v, 'an integer'));
  else if (v < min) errs.push(invalidValue(`${path}.${key}`, v, why));
}

function securityContextErrors(sc: unknown, path: string, pod: boolean): FieldError[] {
  const errs: FieldError[] = [];
  if (sc === undefined) return errs;
  if (!isObj(sc)) return [wrongType(path, sc, 'an object')];
  boolField(errs, sc, 'runAsNonRoot', path);
  intField(errs, sc, 'runAsUser', path, 0, 'must be between 0 and 2147483647, inclusive');
  intField(errs, sc, 'runAsGroup', path, 0, 'must be between 0 and 2147483647, inclusive');
  if (!pod) {
    boolField(errs, sc, 'allowPrivilegeEscalation', path);
    boolField(errs, sc, 'privileged', path);
    boolField(errs, sc, 'readOnlyRootFilesystem', path);
    // ValidateSecurityContext: cannot set allowPrivilegeEscalation to false and privileged to true
    if (sc.privileged === true && sc.allowPrivilegeEscalation === false)
      errs.push(invalidValue(`${path}`, 'privileged', 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    const caps = sc.capabilities;
    if (
      caps !== undefined &&
      (!isObj(caps) || (caps.drop !== undefined && !Array.isArray(caps.drop)) || (caps.add !== undefined && !Array.isArray(caps.add)))
    )
      errs.push(wrongType(`${path}.capabilities`, caps, 'an object with add and drop lists'));
  }
  const seccomp = sc.seccompProfile;
  if (seccomp !== undefined) {
    if (!isObj(seccomp) || !SECCOMP.includes(String(seccomp.type)))
      errs.push(notSupported(`${path}.seccompProfile.type`, isObj(seccomp) ? seccomp.type : seccomp, SECCOMP));
    else if (seccomp.type === 'Localhost' && !seccomp.localhostProfile)
      errs.push(required(`${path}.seccompProfile.localhostProfile`, 'Required value: must be set when seccomp type is Localhost'));
  }
  return errs;
}

function containerErrors(c: unknown, path: string, names: Set<string>): FieldError[] {
  if (!isObj(c)) return [wrongType(path, c, 'an object')];
  const errs: FieldError[] = [];
  const name = typeof c.name === 'string' ? c.name : '';
  if (!name) errs.push(required(`${path}.name`));
  else if (name.length > 63 || !DNS1123_LABEL.test(name))
    errs.push(
      invalidValue(
        `${path}.name`,
        name,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      ),
    );
  else if (names.has(name)) errs.push({ field: `${path}.name`, type: 'FieldValueDuplicate', detail: `Duplicate value: ${q(name)}` });
  names.add(name);
  // validateContainerCommon: image is required for a Pod's containers (not only templates)
  if (typeof c.image !== 'string' || c.image.trim() === '') errs.push(required(`${path}.image`));
  else if (c.image !== c.image.trim()) errs.push(invalidValue(`${path}.image`, c.image, 'must not have leading or trailing whitespace'));
  if (c.imagePullPolicy !== undefined && !POLICIES.includes(String(c.imagePullPolicy)))
    errs.push(notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, POLICIES));
  for (const k of ['command', 'args'] as const)
    if (c[k] !== undefined && (!Array.isArray(c[k]) || (c[k] as unknown[]).some((x) => typeof x !== 'string')))
      errs.push(wrongType(`${path}.${k}`, c[k], 'a list of strings'));
  errs.push(...securityContextErrors(c.securityContext, `${path}.securityContext`, false));
  return errs;
}

/** ValidatePodCreate / ValidatePodUpdate, for the fields the probe Pod uses. */
export function podErrors(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = obj.spec;
  if (!isObj(spec)) return [required('spec')];
  const errs: FieldError[] = [];
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) errs.push(required('spec.containers'));
  else {
    const names = new Set<string>();
    containers.forEach((c, i) => errs.push(...containerErrors(c, `spec.containers[${i}]`, names)));
  }
  if (spec.restartPolicy !== undefined && !RESTART.includes(String(spec.restartPolicy)))
    errs.push(notSupported('spec.restartPolicy', spec.restartPolicy, RESTART));
  intField(errs, spec, 'activeDeadlineSeconds', 'spec', 1, 'must be between 1 and 2147483647, inclusive');
  intField(errs, spec, 'terminationGracePeriodSeconds', 'spec', 0, 'must be greater than or equal to 0');
  for (const k of ['hostNetwork', 'hostPID', 'hostIPC', 'automountServiceAccountToken', 'enableServiceLinks']) boolField(errs, spec, k, 'spec');
  const secrets = spec.imagePullSecrets;
  if (secrets !== undefined) {
    if (!Array.isArray(secrets)) errs.push(wrongType('spec.imagePullSecrets', secrets, 'a list'));
    else
      secrets.forEach((s, i) => {
        const n = isObj(s) ? s.name : undefined;
        if (typeof n !== 'string' || !n) errs.push(required(`spec.imagePullSecrets[${i}].name`));
        else if (!DNS1123_SUBDOMAIN.test(n)) errs.push(invalidValue(`spec.imagePullSecrets[${i}].name`, n, 'a lowercase RFC 1123 subdomain'));
      });
  }
  errs.push(...securityContextErrors(spec.securityContext, 'spec.securityContext', true));
  if (old && isObj(old.spec)) {
    // ValidatePodUpdate: only images, activeDeadlineSeconds and tolerations may change
    const strip = (s: Obj) => {
      const c = structuredClone(s);
      delete c.activeDeadlineSeconds;
      delete c.tolerations;
      for (const k of Array.isArray(c.containers) ? c.containers : []) if (isObj(k)) delete k.image;
      return c;
    };
    if (!deepEqual(strip(spec), strip(old.spec as Obj)))
      errs.push({
        field: 'spec',
        type: 'FieldValueForbidden',
        detail:
          'Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      });
  }
  return errs;
}

/** ValidateEvent, for core/v1 Events: involvedObject and reason/message as strings; the namespace the object's. */
export function eventErrors(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const io = obj.involvedObject;
  if (!isObj(io)) errs.push(required('involvedObject'));
  else if (io.namespace !== undefined && io.namespace !== obj.metadata.namespace)
    errs.push(invalidValue('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
  for (const k of ['reason', 'message', 'type']) if (obj[k] !== undefined && typeof obj[k] !== 'string') errs.push(wrongType(k, obj[k], 'a string'));
  return errs;
}

/** The registry's PrepareForCreate: status reset to Pending (what the scheduler and kubelet then fill in); spec defaults the probe reads. */
export function preparePod(obj: KubeObject): void {
  const spec = isObj(obj.spec) ? obj.spec : {};
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.terminationGracePeriodSeconds ??= 30;
  for (const c of Array.isArray(spec.containers) ? spec.containers : []) {
    if (!isObj(c)) continue;
    // SetDefaults_Container: Always for :latest or no tag, else IfNotPresent
    c.imagePullPolicy ??= /:latest$|^[^:@]*$|\/[^:@/]*$/.test(String(c.image ?? '')) ? 'Always' : 'IfNotPresent';
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
  }
  obj.spec = spec;
  obj.status = { phase: 'Pending', qosClass: 'Burstable' };
}
