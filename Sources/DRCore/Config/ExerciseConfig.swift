/// Everything `longhorn-dr exercise` needs to know about one cluster's DR exercise.
///
/// Built only through `ConfigLoader`, which checks every field; a value of this type is valid.
public struct ExerciseConfig: Sendable, Equatable {
    public var cluster: Cluster
    /// The test workloads, one volume each (at least one): each gets its own sentinel, backup,
    /// restore and verdict.
    public var workloads: [Workload]
    public var sentinel: Sentinel
    public var longhorn: LonghornTarget
    public var budgets: Budgets
    public var report: Report
    public var notify: Notify
    public var metrics: Metrics
    /// Where the exercise journal is kept, outside the cluster; `nil` = the user's state dir.
    public var stateDirectory: String?
    /// How the workstation reaches AWS (SSM for the kubeconfig, S3 when the target has no Secret).
    public var aws: AWSAccess = AWSAccess()
    /// Flux on the rebuilt cluster: wait-ready waits for every Kustomization and HelmRelease.
    public var flux: Flux = Flux()
    /// The rebuilt cluster's Alertmanager: wait-ready then also waits until no alert fires but
    /// those allowed; `nil` (no `alertmanager` section) = not checked.
    public var alertmanager: Alertmanager? = nil

    public struct Alertmanager: Sendable, Equatable {
        /// Base URL, http(s), without credentials, query or fragment; the gate reads
        /// `<url>/api/v2/alerts`.
        public var url: String
        /// Alert names (`labels.alertname`) that may keep firing after the rebuild, e.g.
        /// kube-prometheus-stack's always-firing `Watchdog`.
        public var allowFiring: [String]
        /// A PEM file of CA certificates trusted in addition to the system roots (https only).
        public var caFile: String?

        public init(url: String, allowFiring: [String] = [], caFile: String? = nil) {
            self.url = url
            self.allowFiring = allowFiring
            self.caFile = caFile
        }
    }

    public struct Flux: Sendable, Equatable {
        /// Kustomizations and HelmReleases (`namespace/name`, or `name` in any namespace) that may
        /// stay not Ready after the rebuild without failing the exercise.
        public var allowNotReady: [String]
        public init(allowNotReady: [String] = []) {
            self.allowNotReady = allowNotReady
        }
    }

    /// The workstation's AWS credentials for the exercise's own requests.
    public struct AWSAccess: Sendable, Equatable {
        public enum Credentials: String, Sendable, CaseIterable {
            /// Environment variables, then the shared config/credentials files (static keys).
            case chain
            /// `aws configure export-credentials`: SSO, role_arn and credential_process profiles.
            case awsCLI = "aws-cli"
        }
        public var credentials: Credentials
        public var profile: String?
        /// Plain http:// to another machine for SSM or the store (refused unless set).
        public var allowInsecureEndpoint: Bool
        public init(credentials: Credentials = .chain, profile: String? = nil, allowInsecureEndpoint: Bool = false) {
            self.credentials = credentials
            self.profile = profile
            self.allowInsecureEndpoint = allowInsecureEndpoint
        }
    }

    public struct Cluster: Sendable, Equatable {
        public var name: String
        public var kubeconfig: KubeconfigSource
        /// Context inside the kubeconfig; `nil` = its current context.
        public var context: String?
        /// Run to destroy the cluster, as an argument array (never through a shell).
        public var destroy: [String]
        /// Run to build the cluster again.
        public var rebuild: [String]
        /// Exec plugin programs a fetched kubeconfig (command or SSM) may run, by name; any other
        /// exec plugin or local file reference in it is refused.
        public var allowExec: [String] = []
    }

    /// Where the kubeconfig comes from; after a rebuild it is fetched again from the same place.
    public enum KubeconfigSource: Sendable, Equatable {
        case file(path: String)
        /// A command whose standard output is the kubeconfig.
        case command([String])
        /// An AWS SSM parameter (SecureString), written to `path` with mode 0600.
        case ssm(parameter: String, region: String?, profile: String?, path: String)
    }

    public struct Workload: Sendable, Equatable {
        public var namespace: String
        public var deployment: String
        public var pvc: String
        /// The Longhorn volume behind the PVC (a well-known name, so restores can find it).
        public var volume: String
        public var mountPath: String
        public var size: ByteQuantity
        public var storageClass: String
        public var image: String
    }

    public struct Sentinel: Sendable, Equatable {
        /// File name relative to the workload's mount path.
        public var file: String
        /// How many random bytes the sentinel holds.
        public var size: ByteQuantity
    }

    public struct LonghornTarget: Sendable, Equatable {
        public var namespace: String
        /// The BackupTarget CR name (Longhorn 1.8+); `default` on older versions too.
        public var backupTarget: String
        /// The S3 endpoint the workstation uses for the store check, when the one in Longhorn's
        /// Secret only resolves inside the cluster (an in-cluster MinIO); `nil` = the Secret's.
        public var storeEndpoint: String?

        public init(namespace: String, backupTarget: String, storeEndpoint: String? = nil) {
            self.namespace = namespace
            self.backupTarget = backupTarget
            self.storeEndpoint = storeEndpoint
        }
    }

    public struct Budgets: Sendable, Equatable {
        /// The hard cap of one invocation: a resumed run gets the whole cap again.
        public var total: Duration
        /// What the whole exercise should take (the plan's 45 minutes): reported, never enforced.
        public var target: Duration
        /// How long a command stopped by its budget or Ctrl-C gets between SIGTERM and SIGKILL
        /// (terraform releases its state lock in that time).
        public var stopGrace: Duration
        public var phases: [ExercisePhase: Duration]

        public init(
            total: Duration, target: Duration = ExerciseConfig.Defaults.target, stopGrace: Duration = ExerciseConfig.Defaults.stopGrace,
            phases: [ExercisePhase: Duration]
        ) {
            self.total = total
            self.target = target
            self.stopGrace = stopGrace
            self.phases = phases
        }

        public func budget(for phase: ExercisePhase) -> Duration { phases[phase] ?? total }
    }

    public enum ReportFormat: String, Sendable, CaseIterable, Codable {
        case console, json, junit, markdown
    }

    public struct Report: Sendable, Equatable {
        /// `nil` = `<state dir>/reports`.
        public var directory: String?
        public var formats: [ReportFormat]
    }

    public struct Notify: Sendable, Equatable {
        /// A generic JSON webhook (Slack-style `text` plus the figures as fields).
        public var webhook: SecretURL?
        /// A Discord webhook: an embed with the verdict, volumes and figures.
        public var discord: SecretURL?

        public init(webhook: SecretURL? = nil, discord: SecretURL? = nil) {
            self.webhook = webhook
            self.discord = discord
        }
    }

    public struct Metrics: Sendable, Equatable {
        /// A node-exporter textfile-collector path (`*.prom`).
        public var textfile: String?
        /// A Prometheus Pushgateway base URL.
        public var pushgateway: String?
    }
}

extension ExerciseConfig {
    /// The plan's defaults, used for absent fields and documented in `docs/configuration.md`.
    public enum Defaults {
        // terragrunt's own prompts are answered by TG_NON_INTERACTIVE, which the exercise sets
        // for every command it runs (CommandRunner); -auto-approve answers terraform's.
        public static let destroy = ["task", "tg:destroy-dev", "--", "-auto-approve"]
        public static let rebuild = ["task", "tg:apply-dev", "--", "-auto-approve"]
        public static let namespace = "dr-exercise"
        public static let mountPath = "/data"
        public static let size = ByteQuantity(bytes: 1 << 30)
        public static let storageClass = "longhorn"
        public static let image = "busybox:1.37"
        public static let sentinelFile = "dr-sentinel.bin"
        public static let sentinelSize = ByteQuantity(bytes: 64 << 10)
        public static let longhornNamespace = "longhorn-system"
        public static let backupTarget = "default"
        /// One invocation's hard cap: the phase budgets below fit in it with room for waits.
        public static let total: Duration = .seconds(2 * 60 * 60)
        public static let target: Duration = .seconds(45 * 60)
        public static let stopGrace: Duration = .seconds(30)
        public static let phases: [ExercisePhase: Duration] = [
            .preflight: .seconds(2 * 60),
            .setup: .seconds(5 * 60),
            .writeSentinel: .seconds(60),
            .backup: .seconds(10 * 60),
            .verifyBackupInStore: .seconds(5 * 60),
            // A terragrunt destroy of a Talos-on-AWS cluster takes 10–20 minutes.
            .destroy: .seconds(30 * 60),
            .rebuild: .seconds(30 * 60),
            .waitReady: .seconds(15 * 60),
            .verify: .seconds(2 * 60),
            .report: .seconds(60),
        ]
        public static let formats: [ReportFormat] = [.console, .json, .junit, .markdown]
        public static func kubeconfigPath(cluster: String) -> String { "~/.kube/\(cluster).yaml" }
        public static func ssmParameter(cluster: String) -> String { "/homelab/kubernetes/\(cluster)/kubeconfig" }
    }
}
