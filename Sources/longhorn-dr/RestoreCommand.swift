import ArgumentParser
import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn
import LonghornRestoreAdapter
import RestoreOrchestrator

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "The restore orchestrator: bring every declared volume back from its backup before workloads start.",
        discussion: """
            Runs as a Job early in cluster bootstrap. For each volume of the restore config: keep an existing \
            Longhorn volume; restore from the chosen backup; create a fresh one only when the backup target is \
            synced and holds no backup (and the volume allows it); never guess. Exit status 0 only when every \
            volume succeeded (Flux gates the workloads on it), 4 otherwise, 2 for a bad config. Each run is \
            recorded in the status ConfigMap (statusConfigMap, in the Longhorn namespace) and as one Event per \
            volume. --dry-run prints what each volume would get and changes nothing (apart from asking the backup \
            target to sync, as Longhorn does on its own timer); its exit status says whether every volume has a \
            safe plan.
            """)

    @Option(name: .shortAndLong, help: "The restore config file (in the Job: the mounted ConfigMap key, e.g. /etc/longhorn-dr/restore.yaml).")
    var config: String

    @Option(help: "Path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "The kubeconfig context to use.")
    var context: String?

    @Flag(help: "Decide every volume and print the plan, but create nothing and record nothing.")
    var dryRun = false

    func run() async throws {
        let restoreConfig = try ConfigLoader.loadRestore(try ConfigLoader.readFile(config), file: config)
        let cluster = try Terminal.loadCluster(kubeconfig: kubeconfig, context: context)
        Terminal.note(
            "longhorn-dr \(BuildInfo.version) restore: \(restoreConfig.volumes.count) volume(s) from \(config), API server \(cluster.server.absoluteString)")
        let outcomes = try await KubeClient.withClient(cluster) { client in
            let longhorn = try await LonghornClient.connect(kube: client, namespace: restoreConfig.longhornNamespace)
            let port = LonghornRestorePort(longhorn: longhorn)
            return await RestoreOrchestrator(config: restoreConfig, port: port, log: { Terminal.note($0) }).run(dryRun: dryRun)
        }
        if dryRun { print("dry run: nothing was created") }
        for outcome in outcomes { print(outcome.line) }
        let status = RestoreOrchestrator.exitStatus(outcomes)
        if status != .ok { throw ExitStatusError(status: status) }
    }
}
