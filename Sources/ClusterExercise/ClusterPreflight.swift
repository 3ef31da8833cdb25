import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn
import ProcessRunner

/// `longhorn-dr preflight`'s checks: can this machine and this cluster run a restore or an
/// exercise now? Tools, kubeconfig, API server, Longhorn and its workloads, the backup target
/// synced just now, and the last restore run. Each check says what it found; none stops the others
/// unless it must (no kubeconfig, no API server).
public struct ClusterPreflight: Sendable {
    public var kubeconfig: String?
    public var context: String?
    public var longhornNamespace: String
    public var backupTarget: String
    /// How long to wait for Longhorn's workloads and the target's sync.
    public var limit: Duration

    public init(kubeconfig: String?, context: String?, longhornNamespace: String, backupTarget: String, limit: Duration) {
        self.kubeconfig = kubeconfig
        self.context = context
        self.longhornNamespace = longhornNamespace
        self.backupTarget = backupTarget
        self.limit = limit
    }

    public struct Check: Sendable {
        public enum Outcome: String, Sendable {
            case ok
            case fail = "FAIL"
            case note
        }
        public var name: String
        public var outcome: Outcome
        public var detail: String
        /// Which exit status a failure of this check stands for.
        public var failure: ExitStatus = .infrastructure
    }

    public func run() async -> [Check] {
        var checks: [Check] = []
        for tool in ["debugfs"] {
            if let path = ToolLocator.locate(tool) {
                checks.append(Check(name: "tool \(tool)", outcome: .ok, detail: path))
            } else {
                checks.append(
                    Check(
                        name: "tool \(tool)", outcome: .fail,
                        detail:
                            "not found on PATH or in /usr/sbin, /sbin; the store check reads files out of backups with it (Debian: apt-get install e2fsprogs)",
                        failure: .environment))
            }
        }
        let cluster: ResolvedCluster
        do {
            cluster = try KubeconfigLoader().load(.init(kubeconfigPath: kubeconfig, context: context))
            checks.append(Check(name: "kubeconfig", outcome: .ok, detail: "API server \(cluster.server.absoluteString)"))
            for warning in cluster.securityWarnings { checks.append(Check(name: "kubeconfig security", outcome: .note, detail: warning)) }
        } catch {
            checks.append(Check(name: "kubeconfig", outcome: .fail, detail: "\(error)", failure: .environment))
            return checks
        }
        do {
            // One attempt per request: a preflight reports what it sees now, and retrying a dead
            // endpoint five times would only make the answer wait.
            try await KubeClient.withClient(cluster, retry: RetryPolicy(maxAttempts: 1)) { client in
                checks += await clusterChecks(client, limit: limit)
            }
        } catch {
            checks.append(Check(name: "API server", outcome: .fail, detail: "\(error)"))
        }
        return checks
    }

    func clusterChecks(_ client: KubeClient, limit: Duration) async -> [Check] {
        var checks: [Check] = []
        do {
            let version = try await client.serverVersion()
            checks.append(Check(name: "API server", outcome: .ok, detail: "Kubernetes \(version)"))
        } catch {
            return [Check(name: "API server", outcome: .fail, detail: "\(error)")]
        }
        let longhorn: LonghornClient
        do {
            longhorn = try await LonghornClient.connect(kube: client, namespace: longhornNamespace)
            checks.append(Check(name: "Longhorn", outcome: .ok, detail: "\(longhorn.version) in \(longhornNamespace)"))
        } catch {
            checks.append(Check(name: "Longhorn", outcome: .fail, detail: "\(error)"))
            return checks
        }
        do {
            try await longhorn.waitForWorkloads(timeout: limit)
            checks.append(Check(name: "Longhorn workloads", outcome: .ok, detail: "manager and CSI workloads rolled out"))
        } catch {
            checks.append(Check(name: "Longhorn workloads", outcome: .fail, detail: "\(error)"))
        }
        do {
            let url = try await longhorn.backupTargetURL(backupTarget)
            let requested = try await longhorn.requestBackupTargetSync(backupTarget)
            let synced = try await longhorn.waitForBackupTarget(backupTarget, syncedAfter: requested, timeout: limit)
            checks.append(
                Check(
                    name: "backup target \(backupTarget)", outcome: .ok,
                    detail: "\(url ?? "(no URL)") available, synced at \(synced.status?.lastSyncedAt ?? "?")"))
        } catch {
            checks.append(Check(name: "backup target \(backupTarget)", outcome: .fail, detail: "\(error)"))
        }
        checks.append(await lastRestore(client))
        return checks
    }

    /// The restore orchestrator's last run, if the cluster has one: informative, never a failure.
    func lastRestore(_ client: KubeClient) async -> Check {
        let name = "last restore run"
        guard let status = try? await client.getIfPresent(.configMaps, namespace: longhornNamespace, name: RestoreConfig.Defaults.statusConfigMap),
            let result = status[path: ["data", "result"]]?.stringValue
        else {
            return Check(name: name, outcome: .note, detail: "no status ConfigMap \(longhornNamespace)/\(RestoreConfig.Defaults.statusConfigMap) yet")
        }
        let summary = status[path: ["data", "summary"]]?.stringValue ?? ""
        let finished = status[path: ["data", "finishedAt"]]?.stringValue ?? "?"
        return Check(name: name, outcome: .note, detail: "\(result) at \(finished): \(summary)")
    }
}
