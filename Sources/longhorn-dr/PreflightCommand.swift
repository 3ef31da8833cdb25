import ArgumentParser
import ClusterExercise
import DRCore
import Foundation
import ProcessRunner
import KubeClient
import KubeModels
import Longhorn

/// `longhorn-dr preflight`: can this machine and this cluster run a restore or an exercise now?
struct PreflightCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflight",
        abstract: "Check tools, cluster, Longhorn version, backup target health and the last restore run.",
        discussion: """
            Each check prints ok, FAIL or note with what it found. The backup target check asks Longhorn to \
            sync (syncRequestedAt) and waits up to --timeout for it, so "available" means the store answered \
            just now. Exit status: 0 every check passed, 3 a tool or the kubeconfig is missing, 4 the \
            cluster, Longhorn or the backup target is not ready.
            """)

    @Option(help: "Path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use.")
    var context: String?

    @Option(help: "The namespace Longhorn runs in.")
    var longhornNamespace = LonghornResources.defaultNamespace

    @Option(help: "The BackupTarget to check.")
    var backupTarget = LonghornResources.defaultBackupTarget

    @Option(help: "How long to wait for Longhorn's workloads and the backup target's sync (e.g. 60s).")
    var timeout = "60s"

    @Flag(help: "Print the checks as JSON.")
    var json = false

    func validate() throws {
        guard let parsed = DurationText.parse(timeout), parsed > .zero else {
            throw ValidationError("--timeout must be a duration like 60s or 2m, got \(timeout)")
        }
    }

    struct Check: Sendable {
        enum Outcome: String, Sendable { case ok, fail = "FAIL", note }
        var name: String
        var outcome: Outcome
        var detail: String
        /// Which exit status a failure of this check stands for.
        var failure: ExitStatus = .infrastructure
    }

    func run() async throws {
        let checks = await runChecks()
        if json {
            let rows: [JSONValue] = checks.map { ["name": .string($0.name), "outcome": .string($0.outcome.rawValue.lowercased()), "detail": .string($0.detail)] }
            print(JSONValue.object(["checks": .array(rows), "ok": .bool(!checks.contains { $0.outcome == .fail })]).jsonText)
        } else {
            for check in checks {
                let mark = switch check.outcome { case .ok: "ok  "; case .fail: "FAIL"; case .note: "note" }
                print("\(mark) \(check.name): \(check.detail)")
            }
        }
        let failures = checks.filter { $0.outcome == .fail }
        // An environment problem (tools, kubeconfig) is the more basic one: report it first.
        if failures.contains(where: { $0.failure == .environment }) { throw ExitStatusError(status: .environment) }
        if !failures.isEmpty { throw ExitStatusError(status: .infrastructure) }
    }

    func runChecks() async -> [Check] {
        var checks: [Check] = []
        for tool in ["debugfs"] {
            if let path = ToolLocator.locate(tool) {
                checks.append(Check(name: "tool \(tool)", outcome: .ok, detail: path))
            } else {
                checks.append(Check(name: "tool \(tool)", outcome: .fail,
                    detail: "not found on PATH or in /usr/sbin, /sbin; the store check reads files out of backups with it (Debian: apt-get install e2fsprogs)",
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
        let limit = DurationText.parse(timeout) ?? .seconds(60)
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
            checks.append(Check(name: "backup target \(backupTarget)", outcome: .ok,
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
