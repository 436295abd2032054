// The container files under docker/ are never run on our machines (no Docker engine), so these
// tests keep them consistent with each other and with the repository: paths that exist, the
// service and port Prometheus scrapes, the dashboard Grafana loads, and metric names that Sluice
// really exports. No broker is needed.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { MetricNames, PROCESS_METRICS_PREFIX } from '../../engine/observability/metric-names.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DOCKER = path.join(ROOT, 'docker');
const COMPOSE_FILE = path.join(DOCKER, 'compose.yaml');

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asObject(value: unknown, what: string): Json {
  expect(isObject(value), `${what} should be a mapping`).to.equal(true);
  return value as Json;
}

function asArray(value: unknown, what: string): unknown[] {
  expect(value, `${what} should be a list`).to.be.an('array');
  return value as unknown[];
}

function asString(value: unknown, what: string): string {
  expect(value, `${what} should be a string`).to.be.a('string');
  return value as string;
}

function readYaml(file: string): Json {
  return asObject(parse(fs.readFileSync(file, 'utf8')), file);
}

// ---- compose ------------------------------------------------------------------------------

const compose = readYaml(COMPOSE_FILE);
const services = asObject(compose.services, 'services');

function service(name: string): Json {
  return asObject(services[name], `service ${name}`);
}

/** A service's environment as a map, from either the map or the `KEY=value` list form. */
function environment(name: string): Record<string, string> {
  const env = service(name).environment;
  if (env === undefined) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const text = asString(entry, `${name} environment entry`);
      const eq = text.indexOf('=');
      return eq < 0 ? [text, ''] : [text.slice(0, eq), text.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(asObject(env, `${name} environment`)).map(([k, v]) => [k, String(v)]));
}

/** A service's command as a list of arguments. */
function command(name: string): string[] {
  const value = service(name).command;
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  return asArray(value, `${name} command`).map((arg) => String(arg));
}

interface Mount {
  /** `bind` (a host path, resolved against docker/) or `volume` (a named volume). */
  type: 'bind' | 'volume';
  source: string;
  target: string;
}

function mounts(name: string): Mount[] {
  const list = service(name).volumes;
  if (list === undefined) return [];
  return asArray(list, `${name} volumes`).map((entry): Mount => {
    if (typeof entry === 'string') {
      const [source = '', target = ''] = entry.split(':');
      const bind = source.startsWith('.') || source.startsWith('/');
      return { type: bind ? 'bind' : 'volume', source: bind ? path.resolve(DOCKER, source) : source, target };
    }
    const long = asObject(entry, `${name} volume`);
    const type = long.type === 'bind' ? 'bind' : 'volume';
    const source = asString(long.source, `${name} volume source`);
    return { type, source: type === 'bind' ? path.resolve(DOCKER, source) : source, target: asString(long.target, `${name} volume target`) };
  });
}

/** Where a path inside a service's container comes from on the host, through its bind mounts. */
function hostPath(name: string, containerPath: string): string | undefined {
  const match = mounts(name)
    .filter((m) => m.type === 'bind')
    .filter((m) => containerPath === m.target || containerPath.startsWith(`${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return match && path.join(match.source, path.relative(match.target, containerPath));
}

/** The ports a service publishes, as container ports. */
function containerPorts(name: string): number[] {
  const ports = (service(name).ports ?? []) as unknown[];
  const expose = (service(name).expose ?? []) as unknown[];
  return [...ports, ...expose].map((entry) => {
    if (isObject(entry)) return Number(entry.target);
    const parts = String(entry).split('/')[0]!.split(':');
    return Number(parts[parts.length - 1]);
  });
}

function flagValue(args: string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}

const sluiceBuild = asObject(service('sluice').build, 'sluice build');
const buildContext = path.resolve(DOCKER, asString(sluiceBuild.context, 'sluice build context'));
const dockerfilePath = path.resolve(buildContext, asString(sluiceBuild.dockerfile ?? 'Dockerfile', 'sluice build dockerfile'));

// ---- Dockerfile ---------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

function dockerfileInstructions(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const space = line.search(/\s/);
      return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

/** The words of an instruction: its JSON array form, or whitespace-separated. */
function words(args: string): string[] {
  if (args.startsWith('[')) return JSON.parse(args) as string[];
  return args.split(/\s+/);
}

const dockerfile = fs.existsSync(dockerfilePath) ? fs.readFileSync(dockerfilePath, 'utf8') : '';
const instructions = dockerfileInstructions(dockerfile);

/** Sources of the COPY/ADD instructions that read from the build context (not `--from`). */
function contextCopySources(): string[] {
  const sources: string[] = [];
  for (const { keyword, args } of instructions) {
    if (keyword !== 'COPY' && keyword !== 'ADD') continue;
    const parts = words(args.replace(/^(--[a-z-]+=\S+\s+)+/, ''));
    if (/(^|\s)--from=/.test(args)) continue;
    sources.push(...parts.slice(0, -1));
  }
  return sources;
}

function lastInstruction(keyword: string): string[] {
  const found = instructions.filter((i) => i.keyword === keyword).at(-1);
  expect(found, `the Dockerfile should have ${keyword}`).to.not.equal(undefined);
  return words(found!.args);
}

// ---- Grafana and metrics ------------------------------------------------------------------

const PROMQL_WORDS = new Set([
  'and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left',
  'group_right', 'inf', 'nan',
]);

/** The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels. */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = bare.slice(match.index + match[0].length).trimStart();
    if (rest.startsWith('(') || PROMQL_WORDS.has(match[0].toLowerCase())) continue;
    names.push(match[0]);
  }
  return names;
}

const HISTOGRAMS: string[] = [MetricNames.commitLatency, MetricNames.httpDuration, MetricNames.asyncCallDuration];
const EXPORTED = new Set<string>(Object.values(MetricNames));

/** Whether Sluice exports a series of this name. */
function isExported(name: string): boolean {
  if (EXPORTED.has(name)) return true;
  if (HISTOGRAMS.some((h) => ['_bucket', '_sum', '_count'].some((suffix) => name === h + suffix))) return true;
  return [`${PROCESS_METRICS_PREFIX}process_`, `${PROCESS_METRICS_PREFIX}nodejs_`].some((prefix) => name.startsWith(prefix) && name.length > prefix.length);
}

/** The metric a series name belongs to: the histogram for `_bucket`/`_sum`/`_count`. */
function baseMetric(name: string): string {
  const histogram = HISTOGRAMS.find((h) => name.startsWith(`${h}_`));
  return histogram ?? name;
}

interface Panel {
  title: string;
  type: string;
  exprs: string[];
  datasourceUids: string[];
}

function panelsOf(list: unknown): Panel[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((item): Panel[] => {
    const raw = asObject(item, 'panel');
    const targets = Array.isArray(raw.targets) ? raw.targets.map((t) => asObject(t, 'panel target')) : [];
    const uidOf = (ds: unknown) => (isObject(ds) ? String(ds.uid) : String(ds));
    const own: Panel = {
      title: String(raw.title),
      type: String(raw.type),
      exprs: targets.map((t) => asString(t.expr, `expression of ${String(raw.title)}`)),
      datasourceUids: [
        ...(raw.datasource === undefined ? [] : [uidOf(raw.datasource)]),
        ...targets.filter((t) => t.datasource !== undefined).map((t) => uidOf(t.datasource)),
      ],
    };
    return [own, ...panelsOf(raw.panels)];
  });
}

const dashboardProviders = path.join(DOCKER, 'grafana', 'provisioning', 'dashboards', 'sluice.yaml');
const datasourceFile = path.join(DOCKER, 'grafana', 'provisioning', 'datasources', 'prometheus.yaml');
const dashboardFile = path.join(DOCKER, 'grafana', 'dashboards', 'sluice.json');
const dashboard = asObject(JSON.parse(fs.readFileSync(dashboardFile, 'utf8')), 'dashboard');
const panels = panelsOf(dashboard.panels).filter((p) => p.type !== 'row');
const templating = asArray(asObject(dashboard.templating, 'templating').list, 'templating.list').map((v) => asObject(v, 'variable'));

/** Every PromQL expression of the dashboard: panel targets and variable queries. */
function dashboardExprs(): string[] {
  const variableQueries = templating.flatMap((v) => {
    const query = isObject(v.query) ? v.query.query : v.query;
    return typeof query === 'string' ? [query.replace(/^label_values\((.*)\)$/, '$1').replace(/,\s*\w+\s*$/, '')] : [];
  });
  return [...panels.flatMap((p) => p.exprs), ...variableQueries];
}

// ---- the tests ----------------------------------------------------------------------------

describe('docker/ files', () => {
  describe('compose.yaml', () => {
    it('has the kafka, schema-registry, sluice, prometheus and grafana services, each image pinned', () => {
      expect(Object.keys(services)).to.include.members(['kafka', 'schema-registry', 'sluice', 'prometheus', 'grafana']);
      for (const [name, raw] of Object.entries(services)) {
        const image = asObject(raw, name).image;
        if (image === undefined || isObject(asObject(raw, name).build)) continue;
        expect(asString(image, `${name} image`), `${name} image`).to.match(/:[^:]*\d[^:]*$/).and.not.match(/:latest$/);
      }
      expect(asString(service('kafka').image, 'kafka image')).to.match(/^apache\/kafka:4\.1\.\d+$/);
    });

    it('mounts and builds only from paths that exist in the repository', () => {
      expect(fs.existsSync(buildContext), `build context ${buildContext}`).to.equal(true);
      expect(fs.existsSync(path.join(buildContext, 'package.json')), 'the build context is the repository root').to.equal(true);
      expect(fs.existsSync(dockerfilePath), `Dockerfile ${dockerfilePath}`).to.equal(true);
      const declaredVolumes = Object.keys(asObject(compose.volumes ?? {}, 'volumes'));
      let binds = 0;
      for (const name of Object.keys(services)) {
        for (const mount of mounts(name)) {
          if (mount.type === 'bind') {
            binds++;
            expect(fs.existsSync(mount.source), `${name} mounts ${mount.source}`).to.equal(true);
          } else {
            expect(declaredVolumes, `${name} uses volume ${mount.source}`).to.include(mount.source);
          }
        }
      }
      expect(binds).to.be.greaterThan(0);
      for (const [name, raw] of Object.entries(asObject(compose.configs ?? {}, 'configs'))) {
        const config = asObject(raw, `config ${name}`);
        if (config.file !== undefined) {
          expect(fs.existsSync(path.resolve(DOCKER, asString(config.file, 'config file'))), `config ${name}`).to.equal(true);
        }
      }
    });

    it('runs event-analytics against kafka:9092 with the state directory on a named volume', () => {
      const env = environment('sluice');
      expect(env.KAFKA_BOOTSTRAP_SERVERS).to.equal('kafka:9092');
      expect(env.SCHEMA_REGISTRY_URL).to.equal('http://schema-registry:8081');
      expect(env.SLUICE_STATE_DIR).to.equal('/var/lib/sluice');
      const state = mounts('sluice').find((m) => m.target === env.SLUICE_STATE_DIR);
      expect(state?.type, 'the state directory is a named volume').to.equal('volume');
      const args = command('sluice');
      expect(args.slice(0, 2)).to.deep.equal(['run', 'topologies/event-analytics.ts']);
      expect(fs.existsSync(path.join(buildContext, args[1]!)), args[1]).to.equal(true);
      expect(environment('kafka').KAFKA_ADVERTISED_LISTENERS).to.contain('://kafka:9092');
      expect(environment('schema-registry').SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS).to.contain('kafka:9092');
      expect(service('kafka').healthcheck, 'kafka healthcheck').to.not.equal(undefined);
      expect(asObject(asObject(service('schema-registry').depends_on, 'depends_on').kafka, 'kafka').condition).to.equal('service_healthy');
    });

    it('serves HTTP on all interfaces only with a token, on the port it publishes', () => {
      const env = environment('sluice');
      expect(env.SLUICE_HTTP_HOST).to.equal('0.0.0.0');
      const token = /^\$\{SLUICE_HTTP_TOKEN:?-([^}]+)\}$/.exec(env.SLUICE_HTTP_TOKEN ?? '');
      expect(token, 'SLUICE_HTTP_TOKEN comes from the compose variable, with a placeholder').to.not.equal(null);
      // engine/iq/server.ts refuses tokens shorter than 16 characters: the placeholder must start.
      expect(token![1]!.length, 'length of the placeholder token').to.be.at.least(16);
      const port = Number(flagValue(command('sluice'), '--http-port'));
      expect(containerPorts('sluice')).to.include(port);
    });
  });

  describe('Dockerfile', () => {
    it('copies only sources that exist in the build context and are not ignored', () => {
      const sources = contextCopySources();
      expect(sources).to.include.members(['package.json', 'package-lock.json', 'bin', 'engine', 'state', 'topologies', 'schemas', 'tsconfig.json']);
      const ignoreFile = `${dockerfilePath}.dockerignore`;
      expect(fs.existsSync(ignoreFile), ignoreFile).to.equal(true);
      const ignored = fs.readFileSync(ignoreFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      expect(ignored).to.include.members(['node_modules', '.sluice', '.git', 'bench/results']);
      for (const source of sources) {
        expect(fs.existsSync(path.join(buildContext, source)), `COPY ${source}`).to.equal(true);
        expect(ignored.some((p) => source === p || source.startsWith(`${p}/`)), `COPY ${source} is ignored`).to.equal(false);
      }
    });

    it('runs bin/sluice.js with a default topology file that exists and is copied', () => {
      expect(lastInstruction('ENTRYPOINT')).to.deep.equal(['node', 'bin/sluice.js']);
      expect(fs.existsSync(path.join(buildContext, 'bin', 'sluice.js'))).to.equal(true);
      const cmd = lastInstruction('CMD');
      expect(cmd[0]).to.equal('run');
      const topology = cmd[1]!;
      expect(fs.existsSync(path.join(buildContext, topology)), `CMD topology ${topology}`).to.equal(true);
      expect(contextCopySources().some((s) => topology.startsWith(`${s.replace(/\/$/, '')}/`)), `${topology} is copied`).to.equal(true);
    });

    it('checks health on the HTTP port of its default command', () => {
      const port = flagValue(lastInstruction('CMD'), '--http-port');
      const healthcheck = instructions.find((i) => i.keyword === 'HEALTHCHECK');
      expect(healthcheck?.args).to.contain(`http://127.0.0.1:${port}/healthz`);
      expect(lastInstruction('USER')[0]).to.not.match(/^(root|0)$/);
    });
  });

  describe('prometheus.yml', () => {
    const prometheus = service('prometheus');
    const configPath = (command('prometheus').find((a) => a.startsWith('--config.file=')) ?? '--config.file=/etc/prometheus/prometheus.yml').split('=')[1]!;
    const configOnHost = hostPath('prometheus', configPath);

    it('is the file compose mounts as the configuration', () => {
      expect(configOnHost).to.equal(path.join(DOCKER, 'prometheus', 'prometheus.yml'));
      expect(fs.existsSync(configOnHost!)).to.equal(true);
    });

    it('scrapes /metrics of the sluice service on the port compose exposes, with its token', () => {
      const config = readYaml(configOnHost!);
      const job = asArray(config.scrape_configs, 'scrape_configs').map((j) => asObject(j, 'scrape config')).find((j) => j.job_name === 'sluice');
      expect(job, 'a sluice job').to.not.equal(undefined);
      expect(job!.metrics_path ?? '/metrics').to.equal('/metrics');
      const targets = asArray(job!.static_configs, 'static_configs').flatMap((c) => asArray(asObject(c, 'static config').targets, 'targets').map(String));
      expect(targets).to.have.length.greaterThan(0);
      const httpPort = Number(flagValue(command('sluice'), '--http-port'));
      for (const target of targets) {
        const [host, port] = target.split(':');
        expect(Object.keys(services), `target ${target}`).to.include(host);
        expect(host).to.equal('sluice');
        // The query server answers only Host headers it knows, its advertised name among them.
        const env = environment(host!);
        const accepted = [
          String(service(host!).hostname),
          ...(env.SLUICE_HTTP_ADVERTISED_URL ? [new URL(env.SLUICE_HTTP_ADVERTISED_URL).hostname] : []),
          ...(env.SLUICE_HTTP_ALLOWED_HOSTS ?? '').split(',').map((h) => h.trim()),
        ];
        expect(accepted, `the Host header ${host} is one sluice accepts`).to.include(host);
        if (env.SLUICE_HTTP_ADVERTISED_URL) expect(new URL(env.SLUICE_HTTP_ADVERTISED_URL).port).to.equal(String(httpPort));
        expect(containerPorts(host!), `target ${target}`).to.include(Number(port));
        expect(Number(port)).to.equal(httpPort);
      }
      const authorization = asObject(job!.authorization, 'authorization');
      expect(authorization.type ?? 'Bearer').to.equal('Bearer');
      if (authorization.credentials_file !== undefined) {
        const file = asString(authorization.credentials_file, 'credentials_file');
        const configs = asArray(prometheus.configs ?? [], 'prometheus configs').map((c) => asObject(c, 'config'));
        const provided = configs.find((c) => c.target === file);
        expect(provided, `${file} is provided to prometheus`).to.not.equal(undefined);
        const source = asObject(asObject(compose.configs, 'configs')[asString(provided!.source, 'config source')], 'config');
        expect(source.content, 'the token Prometheus sends is the one Sluice checks').to.equal(environment('sluice').SLUICE_HTTP_TOKEN);
      } else {
        expect(authorization.credentials, 'bearer credentials').to.be.a('string').and.not.equal('');
      }
    });
  });

  describe('Grafana provisioning', () => {
    it('points the Prometheus data source at the prometheus service', () => {
      const datasources = asArray(readYaml(datasourceFile).datasources, 'datasources').map((d) => asObject(d, 'datasource'));
      const prometheus = datasources.find((d) => d.type === 'prometheus');
      const url = new URL(asString(prometheus?.url, 'datasource url'));
      expect(Object.keys(services)).to.include(url.hostname);
      expect(containerPorts(url.hostname)).to.include(Number(url.port));
      expect(hostPath('grafana', '/etc/grafana/provisioning/datasources/prometheus.yaml')).to.equal(datasourceFile);
    });

    it('loads the dashboard file that exists', () => {
      expect(hostPath('grafana', '/etc/grafana/provisioning/dashboards/sluice.yaml')).to.equal(dashboardProviders);
      const providers = asArray(readYaml(dashboardProviders).providers, 'providers').map((p) => asObject(p, 'provider'));
      expect(providers).to.have.length.greaterThan(0);
      for (const provider of providers) {
        const folder = asString(asObject(provider.options, 'provider options').path, 'provider path');
        const onHost = hostPath('grafana', folder);
        expect(onHost, `${folder} is mounted into grafana`).to.be.a('string');
        expect(fs.existsSync(path.join(onHost!, path.basename(dashboardFile))), `${folder}/sluice.json`).to.equal(true);
        expect(path.join(onHost!, path.basename(dashboardFile))).to.equal(dashboardFile);
      }
      const home = environment('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
      if (home !== undefined) expect(hostPath('grafana', home)).to.equal(dashboardFile);
    });
  });

  describe('dashboard', () => {
    const datasources = asArray(readYaml(datasourceFile).datasources, 'datasources').map((d) => asObject(d, 'datasource'));

    it('is the sluice dashboard with an $instance variable over the processed-records counter', () => {
      expect(dashboard.uid).to.equal('sluice');
      expect(dashboard.schemaVersion).to.be.a('number').within(36, 41);
      const instance = templating.find((v) => v.name === 'instance');
      const query = isObject(instance?.query) ? instance.query.query : instance?.query;
      expect(query).to.equal(`label_values(${MetricNames.recordsProcessed}, instance)`);
      expect(instance?.definition ?? query, 'the definition Grafana shows').to.equal(query);
      expect(panels.length).to.be.greaterThan(0);
    });

    it('queries only the provisioned data source', () => {
      const uids = datasources.map((d) => String(d.uid));
      for (const panel of panels) {
        expect(panel.datasourceUids, `data source of ${panel.title}`).to.have.length.greaterThan(0);
        for (const uid of panel.datasourceUids) expect(uids, `data source of ${panel.title}`).to.include(uid);
      }
    });

    it('uses only metric names Sluice exports', () => {
      const exprs = dashboardExprs();
      expect(exprs.length).to.be.greaterThan(0);
      for (const expr of exprs) {
        const names = metricNamesIn(expr);
        expect(names, `metrics of ${expr}`).to.have.length.greaterThan(0);
        for (const name of names) expect(isExported(name), `${name} in ${expr}`).to.equal(true);
      }
    });

    it('shows every exported metric except the HTTP ones and rewinds', () => {
      const used = new Set(dashboardExprs().flatMap(metricNamesIn).map(baseMetric));
      const optional: string[] = [MetricNames.httpRequests, MetricNames.httpDuration, MetricNames.rewinds];
      const missing = Object.values(MetricNames).filter((name) => !optional.includes(name) && !used.has(name));
      expect(missing, 'metrics without a panel').to.deep.equal([]);
    });
  });

  describe('the metric-name parser', () => {
    it('finds metric names and nothing else', () => {
      expect(metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(sluice_http_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))'))
        .to.deep.equal(['sluice_http_request_duration_seconds_bucket']);
      expect(metricNamesIn('sum(rate(a_total[5m])) / on (instance) group_left b_total offset 5m')).to.deep.equal(['a_total', 'b_total']);
      expect(isExported('sluice_commit_latency_seconds_bucket')).to.equal(true);
      expect(isExported('sluice_commits_total_bucket')).to.equal(false);
      expect(isExported('process_resident_memory_bytes')).to.equal(false);
      expect(isExported('sluice_records_total')).to.equal(false);
    });
  });
});
