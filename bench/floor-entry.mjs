// The render path's floor: the two libraries it must load (@actions/core to set an output, js-yaml
// to write the manifest), doing the least possible with them. bench/run.ts bundles it like dist/.
import { setOutput } from '@actions/core';
import { dump } from 'js-yaml';

setOutput('manifest', dump({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { '.dockerconfigjson': 'e30=' } }));
