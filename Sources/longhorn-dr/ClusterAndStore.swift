import Assurance
import ClusterExercise
import DRCore
import KubeClient
import Longhorn

/// How `assure` and `backup list` find the store and the cluster's view of it: `--target` as
/// given, or (reading the cluster) the BackupTarget's URL with its credential Secret.
enum ClusterAndStore {
    /// - Parameters:
    ///   - target: `--target`, or nil to take the BackupTarget's (then `readCluster` must be set).
    ///   - readCluster: read the cluster's BackupTarget, BackupVolumes and Backups.
    /// - Returns: the store URL, the cluster's view (or why it could not be read; nil when not
    ///   asked), and the secret options, pointed at the BackupTarget's Secret when `--secret` was
    ///   not given and the target came from the cluster.
    static func resolve(
        namespace: String, backupTarget: String, target: String?, readCluster: Bool, secretOptions: SecretOptions
    ) async throws -> (target: String, cluster: Result<ClusterBackupView, DRError>?, secretOptions: SecretOptions) {
        let cluster = readCluster ? await read(namespace: namespace, backupTarget: backupTarget, secretOptions: secretOptions) : nil
        if let target { return (target, cluster, secretOptions) }
        guard let cluster else { throw DRError(.usage, subject: "--target", detail: "is required unless the cluster is read") }
        // In the cluster (the CronJob): the target and its credentials are the BackupTarget's.
        let view = try cluster.get()
        guard let url = view.backupTarget?.spec?.backupTargetURL, !url.isEmpty else {
            throw DRError(
                .environment, subject: "BackupTarget \(namespace)/\(backupTarget)",
                detail: view.backupTarget == nil ? "does not exist" : "has no backupTargetURL", hint: "set the backup target in Longhorn, or pass --target")
        }
        var options = secretOptions
        if options.secret == nil, let credential = view.backupTarget?.spec?.credentialSecret, !credential.isEmpty {
            options.secret = "\(namespace)/\(credential)"
        }
        return (url, cluster, options)
    }

    /// The cluster's BackupTarget `backupTarget`, BackupVolumes and Backups in Longhorn's
    /// `namespace`, or why they could not be read.
    static func read(namespace: String, backupTarget: String, secretOptions: SecretOptions) async -> Result<ClusterBackupView, DRError> {
        do {
            let cluster = try Terminal.loadCluster(kubeconfig: secretOptions.kubeconfig, context: secretOptions.context)
            let view = try await KubeClient.withClient(cluster) { client in
                let longhorn = try await LonghornClient.connect(kube: client, namespace: namespace)
                return try await ClusterBackupView.read(from: longhorn, target: backupTarget)
            }
            return .success(view)
        } catch {
            return .failure(FailureMapping.drError(error))
        }
    }
}
