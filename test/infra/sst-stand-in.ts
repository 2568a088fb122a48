import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/**
 * A recording stand-in for the globals SST gives sst.config.ts ($config, $app, $interpolate,
 * sst.Secret, sst.aws.*). Evaluating the real sst.config.ts and infra/ against it yields what
 * would be deployed (components, their arguments, routes, outputs) without Pulumi or AWS.
 * A component infra/ uses but this file does not know fails loudly, naming it.
 *
 * Free of vitest so bench/ scripts can use it too. The infra modules are cached after the first
 * evaluation: to evaluate again (another stage), reset the module registry first.
 */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A deploy-time value (`api.url`, `table.name`, a secret's value), unknown until deployed. */
export class OutputRef {
  constructor(
    readonly component: string,
    readonly property: string,
  ) {}
  toString(): string {
    return `\${${this.component}.${this.property}}`;
  }
  /** `output.apply(fn)`: recorded, so a test can run `fn` on the values a stage might hold. */
  apply<T>(fn: (value: string) => T): AppliedRef<T> {
    return new AppliedRef(this, fn);
  }
}

/** A deploy-time value computed from another (`secret.value.apply(fn)`). */
export class AppliedRef<T> {
  constructor(
    readonly source: OutputRef,
    readonly fn: (value: string) => T,
  ) {}
}

export interface RecordedComponent {
  type: string;
  name: string;
  args: Record<string, unknown>;
  /** the component object infra/ got back, to recognise it in other components' `link` lists */
  instance: object;
}

export interface RecordedRoute {
  api: string;
  /** `POST /v1/imagine` or `$default` */
  route: string;
  handler: unknown;
}

/** A Lambda function as SST would create it: from sst.aws.Function or inside sst.aws.CronV2. */
export interface RecordedFunction {
  /**
   * the component name (`Submit`; `ReconcilerHandler` for a cron's function; the subscriber's
   * name for a table stream's, `<queue>Subscriber` for a queue's)
   */
  name: string;
  handler: string;
  args: Record<string, unknown>;
  /** names of the linked components */
  links: string[];
  environment: Record<string, string>;
}

/** What `sst.Linkable.wrap(cls, fn)` makes a link of a component of that class. */
export interface LinkDefinition {
  properties: Record<string, unknown>;
  include?: unknown[];
}

export interface SstEvaluation {
  app: { name: string; home: string; removal: string; protect: boolean };
  components: RecordedComponent[];
  /** `sst.Linkable.wrap` overrides, by class name (`Dynamo`, `Bucket` ...) */
  linkWraps: Record<string, (instance: object) => LinkDefinition>;
  routes: RecordedRoute[];
  functions: RecordedFunction[];
  outputs: Record<string, unknown>;
  component(type: string, name: string): RecordedComponent;
  fn(name: string): RecordedFunction;
  /** name of the function a route handler (an ARN ref) points at */
  routeTarget(route: string): string;
}

interface ConfigInput {
  app(input: { stage: string }): Record<string, unknown>;
  run(): Promise<Record<string, unknown> | undefined>;
}

/** Evaluates sst.config.ts (and through it infra/) for `stage` against the stand-in. */
export async function evaluateSstConfig(stage: string): Promise<SstEvaluation> {
  const components: RecordedComponent[] = [];
  const routes: RecordedRoute[] = [];
  const linkWraps: Record<string, (instance: object) => LinkDefinition> = {};
  const names = new Set<string>();

  function record(type: string, name: string, args: unknown, instance: object) {
    if (name.toLowerCase() === "app") throw new Error(`component name "${name}" is reserved`);
    if (names.has(name.toLowerCase())) throw new Error(`component name ${name} is not unique`);
    names.add(name.toLowerCase());
    components.push({ type, name, args: (args ?? {}) as Record<string, unknown>, instance });
  }

  class Secret {
    readonly value: OutputRef;
    constructor(
      readonly name: string,
      placeholder?: string,
    ) {
      record("sst.Secret", name, { placeholder }, this);
      this.value = new OutputRef(name, "value");
    }
  }
  class Dynamo {
    readonly name: OutputRef;
    readonly arn: OutputRef;
    constructor(
      private readonly tableName: string,
      private readonly args: Record<string, unknown>,
    ) {
      record("sst.aws.Dynamo", tableName, args, this);
      this.name = new OutputRef(tableName, "name");
      this.arn = new OutputRef(tableName, "arn");
    }
    /** A stream subscriber: recorded as a function named `name` (its args: `subscription`). */
    subscribe(name: string, subscriber: unknown, args?: Record<string, unknown>) {
      if (!this.args.stream) {
        throw new Error(`Cannot subscribe to "${this.tableName}" because stream is not enabled.`);
      }
      if (typeof subscriber !== "object" || subscriber === null) {
        throw new Error(`stand-in: subscriber ${name} must give function args`);
      }
      record("sst.aws.DynamoSubscriber", name, { ...subscriber, subscription: args ?? {} }, {});
    }
  }
  class Bus {
    readonly name: OutputRef;
    readonly arn: OutputRef;
    constructor(name: string, args?: unknown) {
      record("sst.aws.Bus", name, args, this);
      this.name = new OutputRef(name, "name");
      this.arn = new OutputRef(name, "arn");
    }
  }
  class Queue {
    readonly url: OutputRef;
    readonly arn: OutputRef;
    private subscribed = false;
    constructor(
      private readonly queueName: string,
      args?: unknown,
    ) {
      record("sst.aws.Queue", queueName, args, this);
      this.url = new OutputRef(queueName, "url");
      this.arn = new OutputRef(queueName, "arn");
    }
    /** The consumer: recorded as a function named `<queue>Subscriber` (its args: `subscription`). */
    subscribe(subscriber: unknown, args?: Record<string, unknown>) {
      if (this.subscribed) throw new Error(`queue ${this.queueName} has one subscriber only`);
      this.subscribed = true;
      if (typeof subscriber !== "object" || subscriber === null) {
        throw new Error(`stand-in: the ${this.queueName} subscriber must give function args`);
      }
      record(
        "sst.aws.QueueSubscriber",
        `${this.queueName}Subscriber`,
        { ...subscriber, subscription: args ?? {} },
        {},
      );
    }
  }
  class Bucket {
    readonly name: OutputRef;
    readonly arn: OutputRef;
    constructor(name: string, args: unknown) {
      record("sst.aws.Bucket", name, args, this);
      this.name = new OutputRef(name, "name");
      this.arn = new OutputRef(name, "arn");
    }
  }
  class LambdaFunction {
    readonly name: OutputRef;
    readonly arn: OutputRef;
    readonly url: OutputRef;
    constructor(name: string, args: unknown) {
      record("sst.aws.Function", name, args, this);
      this.name = new OutputRef(name, "name");
      this.arn = new OutputRef(name, "arn");
      this.url = new OutputRef(name, "url");
    }
  }
  class ApiGatewayV2 {
    readonly url: OutputRef;
    constructor(
      private readonly apiName: string,
      args?: unknown,
    ) {
      record("sst.aws.ApiGatewayV2", apiName, args, this);
      this.url = new OutputRef(apiName, "url");
    }
    route(route: string, handler: unknown, args?: unknown) {
      if (args !== undefined) throw new Error("stand-in: route args are not recorded yet");
      if (routes.some((r) => r.api === this.apiName && r.route === route)) {
        throw new Error(`duplicate route ${route}`);
      }
      routes.push({ api: this.apiName, route, handler });
    }
  }
  class CronV2 {
    constructor(name: string, args: Record<string, unknown>) {
      record("sst.aws.CronV2", name, args, this);
    }
  }

  const Linkable = {
    /** Replaces the built-in link definition of a class: recorded by the class's name. */
    wrap(cls: { name: string }, fn: (instance: object) => LinkDefinition) {
      if (cls.name in linkWraps) throw new Error(`Linkable.wrap of ${cls.name} is given twice`);
      linkWraps[cls.name] = fn;
    },
  };

  const known: Record<string, unknown> = {
    Dynamo,
    Bucket,
    Function: LambdaFunction,
    ApiGatewayV2,
    CronV2,
    Bus,
    Queue,
  };
  const aws = new Proxy(known, {
    get(target, prop) {
      if (typeof prop === "string" && !(prop in target)) {
        throw new Error(`the sst stand-in (test/infra) does not implement sst.aws.${prop} yet`);
      }
      return target[prop as string];
    },
  });

  let config: ConfigInput | undefined;
  const globals: Record<string, unknown> = {
    $config: (input: ConfigInput) => {
      config = input;
      return input;
    },
    $interpolate: (strings: TemplateStringsArray, ...values: unknown[]) =>
      strings.reduce((out, s, i) => out + s + (i < values.length ? String(values[i]) : ""), ""),
    $dev: false,
    sst: { Secret, Linkable, aws },
  };
  const saved = new Map(Object.keys(globals).map((k) => [k, Reflect.get(globalThis, k)]));
  Object.assign(globalThis, globals);
  try {
    const configUrl = pathToFileURL(join(ROOT, "sst.config.ts")).href;
    const loaded = (await import(/* @vite-ignore */ configUrl)) as { default: ConfigInput };
    config ??= loaded.default;
    const app = config.app({ stage }) as SstEvaluation["app"];
    Object.assign(globalThis, {
      $app: { name: app.name, stage, removal: app.removal, protect: app.protect, providers: {} },
    });
    const outputs = (await config.run()) ?? {};
    return { ...summarise(app, components, routes, outputs), linkWraps };
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) Reflect.deleteProperty(globalThis, key);
      else Reflect.set(globalThis, key, value);
    }
    Reflect.deleteProperty(globalThis, "$app");
  }
}

function summarise(
  app: SstEvaluation["app"],
  components: RecordedComponent[],
  routes: RecordedRoute[],
  outputs: Record<string, unknown>,
): Omit<SstEvaluation, "linkWraps"> {
  const nameOf = (instance: unknown): string => {
    const found = components.find((c) => c.instance === instance);
    if (!found) throw new Error(`a link is not a component created by infra/: ${String(instance)}`);
    return found.name;
  };
  const describe = (name: string, args: Record<string, unknown>): RecordedFunction => ({
    name,
    handler: String(args.handler),
    args,
    links: ((args.link as unknown[] | undefined) ?? []).map(nameOf),
    environment: (args.environment as Record<string, string> | undefined) ?? {},
  });
  const functions: RecordedFunction[] = [];
  for (const c of components) {
    if (
      c.type === "sst.aws.Function" ||
      c.type === "sst.aws.DynamoSubscriber" ||
      c.type === "sst.aws.QueueSubscriber"
    ) {
      functions.push(describe(c.name, c.args));
    }
    if (c.type === "sst.aws.CronV2") {
      const fn = c.args.function;
      if (typeof fn !== "object" || fn === null) {
        throw new Error(`stand-in: cron ${c.name} must give function args, not a string or ARN`);
      }
      functions.push(describe(`${c.name}Handler`, fn as Record<string, unknown>));
    }
  }
  return {
    app,
    components,
    routes,
    functions,
    outputs,
    component(type, name) {
      const found = components.find((c) => c.type === type && c.name === name);
      if (!found) throw new Error(`no ${type} named ${name} was created`);
      return found;
    },
    fn(name) {
      const found = functions.find((f) => f.name === name);
      if (!found) throw new Error(`no function named ${name} was created`);
      return found;
    },
    routeTarget(route) {
      const found = routes.find((r) => r.route === route);
      if (!found) throw new Error(`no route ${route}`);
      const handler = found.handler;
      if (!(handler instanceof OutputRef) || handler.property !== "arn") {
        throw new Error(`route ${route} is not wired to a function ARN`);
      }
      return handler.component;
    },
  };
}
