import AWS
import ArgumentParser
import Assurance
import Backupstore
import ClusterExercise
import DRCore
import Foundation
import Longhorn

/// `longhorn-dr backup list`: the declared volumes' backups as the store holds them and, with
/// `--cluster`, as the cluster's Longhorn knows them. Read only; `assure` gives the verdict.
struct BackupListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the declared volumes' backups in the store (and in the cluster), newest first.",
        discussion: """
            For each volume of the restore config (or each --volume): every backup in the store with its \
            time, age, size and whether it is completed or still being written. With --cluster, the cluster's \
            Backup objects too, and whether store and cluster agree (both, store only, cluster only). \
            Without --target, --cluster takes the store from the cluster's BackupTarget.
            Exit status: 0 listed, 2 bad arguments or config, 3 credentials or tools missing, 4 the store or \
            the cluster could not be read.
            """)

    @Option(name: .shortAndLong, help: "The restore config whose volumes to list.")
    var config: String?

    @Option(help: "A volume to list (repeatable); with --config, added to its volumes.")
    var volume: [String] = []

    @Option(
        help: ArgumentHelp(
            "The Longhorn backup target. Without it, --cluster reads it from the cluster's BackupTarget.", valueName: "s3://bucket@region/path/"))
    var target: String?

    @Flag(help: "Also read the cluster's Backup objects (through --kubeconfig/--context, or in-cluster) and show whether they agree.")
    var cluster = false

    @Option(help: "text or json.")
    var output: BackupVerifyCommand.OutputFormat = .text

    @Option(help: ArgumentHelp("A custom S3 endpoint (default: the Secret's or environment's AWS_ENDPOINTS).", valueName: "url"))
    var endpoint: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var secretOptions: SecretOptions

    func validate() throws {
        if config == nil, volume.isEmpty { throw ValidationError("give --config (its volumes) or --volume NAME") }
        if target == nil, !cluster { throw ValidationError("--target is required (or --cluster, to read it from the cluster's BackupTarget)") }
    }

    func run() async throws {
        let restoreConfig = try config.map { try ConfigLoader.loadRestore(try ConfigLoader.readFile($0), file: $0) }
        let declared = restoreConfig?.volumes.map(\.name) ?? []
        let names = declared + volume.filter { !declared.contains($0) }
        // Without a config, the cluster side is Longhorn's default namespace and target.
        let (target, clusterView, secretOptions) = try await ClusterAndStore.resolve(
            namespace: restoreConfig?.longhornNamespace ?? LonghornResources.defaultNamespace,
            backupTarget: restoreConfig?.backupTarget ?? LonghornResources.defaultBackupTarget, target: self.target, readCluster: cluster,
            secretOptions: secretOptions)
        let view = try clusterView?.get()
        let access = try await aws.storeAccess(location: try S3Location(parsing: target), endpoint: endpoint, secretOptions: secretOptions)
        let listing = try await access.withStore { (opened: OpenedStore) async -> BackupListing in
            if let warning = opened.warning { Terminal.note(warning) }
            return await BackupListing.read(
                volumes: names, reader: BackupReader(store: opened.store, layout: opened.layout), target: target, cluster: view, now: Date())
        }
        print(output == .json ? listing.json() : listing.text())
        if listing.exitStatus != .ok { throw ExitStatusError(status: listing.exitStatus) }
    }
}
