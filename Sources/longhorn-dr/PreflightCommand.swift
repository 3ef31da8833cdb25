import ArgumentParser
import ClusterExercise
import DRCore
import Foundation
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

    func run() async throws {
        let checks = await runChecks()
        if json {
            let rows: [JSONValue] = checks.map {
                ["name": .string($0.name), "outcome": .string($0.outcome.rawValue.lowercased()), "detail": .string($0.detail)]
            }
            print(JSONValue.object(["checks": .array(rows), "ok": .bool(!checks.contains { $0.outcome == .fail })]).jsonText)
        } else {
            for check in checks {
                let mark =
                    switch check.outcome {
                    case .ok: "ok  "
                    case .fail: "FAIL"
                    case .note: "note"
                    }
                print("\(mark) \(check.name): \(check.detail)")
            }
        }
        let failures = checks.filter { $0.outcome == .fail }
        // An environment problem (tools, kubeconfig) is the more basic one: report it first.
        if failures.contains(where: { $0.failure == .environment }) { throw ExitStatusError(status: .environment) }
        if !failures.isEmpty { throw ExitStatusError(status: .infrastructure) }
    }

    func runChecks() async -> [ClusterPreflight.Check] {
        await ClusterPreflight(
            kubeconfig: kubeconfig, context: context, longhornNamespace: longhornNamespace, backupTarget: backupTarget,
            limit: DurationText.parse(timeout) ?? .seconds(60)
        ).run()
    }
}
