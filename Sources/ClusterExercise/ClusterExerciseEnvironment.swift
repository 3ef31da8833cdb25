import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn
import RestoreOrchestrator

/// The DR exercise against a real cluster: the kubeconfig from the config's source (file,
/// command or SSM, read again after the rebuild), destroy and rebuild by the configured commands
/// (argument arrays), the workload and backup through the real clients, and the store check
/// straight from S3 with Longhorn's own credentials.
///
/// After the rebuild it waits for what the bootstrap is meant to do on its own: Longhorn ready,
/// the restore orchestrator's Job Complete (a Failed Job fails the exercise with its log), and
/// the workload running on the restored volume. It never restores anything itself after a
/// rebuild, or the exercise would prove its own work instead of the bootstrap's.
public actor ClusterExerciseEnvironment: ExerciseEnvironment {
    struct Session {
        var client: KubeClient
        var workload: ExerciseWorkload
        var server: String
    }

    let config: ExerciseConfig
    let workDirectory: URL
    let log: @Sendable (String) -> Void
    /// The restore Job the bootstrap runs (kubernetes/platform/config/longhorn/restore-orchestrator).
    let restoreJob: String
    private var session: Session?

    public init(config: ExerciseConfig, workDirectory: URL, restoreJob: String = "longhorn-restore-orchestrator",
        log: @escaping @Sendable (String) -> Void)
    {
        self.config = config
        self.workDirectory = workDirectory
        self.restoreJob = restoreJob
        self.log = log
    }

    public func shutdown() async {
        await disconnect()
    }

    private func connect() async throws -> Session {
        if let session { return session }
        let cluster = try await KubeconfigResolver.resolve(config.cluster.kubeconfig, context: config.cluster.context, workDirectory: workDirectory)
        let client = try KubeClient(cluster: cluster)
        do {
            let longhorn = try await LonghornClient.connect(kube: client, namespace: config.longhorn.namespace)
            let connected = Session(client: client, workload: ExerciseWorkload(config: config, client: client, longhorn: longhorn),
                server: cluster.server.absoluteString)
            session = connected
            return connected
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func disconnect() async {
        try? await session?.client.shutdown()
        session = nil
    }

    // MARK: - Phases

    public func preflight() async throws -> [String: String] {
        for (purpose, argv) in [("destroy", config.cluster.destroy), ("rebuild", config.cluster.rebuild)] {
            guard let name = argv.first, ToolLocator.locate(name) != nil else {
                throw DRError(.environment, subject: "the \(purpose) command \(argv.first ?? "(empty)")", detail: "is not found on PATH",
                    hint: "install it, or give its full path in cluster.\(purpose)")
            }
        }
        guard ToolLocator.locate("debugfs") != nil else {
            throw DRError(.environment, subject: "debugfs", detail: "is not installed; the store check needs it", hint: "apt-get install e2fsprogs")
        }
        let session = try await connect()
        let longhorn = session.workload.longhorn
        let target = try await longhorn.backupTargetURL(config.longhorn.backupTarget) ?? "(none)"
        return ["apiServer": session.server, "longhorn": longhorn.version.description, "backupTarget": target]
    }

    public func clusterFingerprint() async throws -> String {
        let session = try await connect()
        return try await session.workload.fingerprint(server: session.server)
    }

    public func setUpWorkload() async throws -> [String: String] {
        let session = try await connect()
        // The well-known volume must exist before the PVC can bind: the same decision the
        // bootstrap makes (keep it, or restore it, or a fresh one when the store has none).
        let outcome = try await ensureVolume(session)
        try await session.workload.applyWorkload(onlyIfMissing: true)
        let pod = try await session.workload.runningPod(timeout: .seconds(300))
        return ["pod": pod, "volumeDecision": outcome.decision]
    }

    private func ensureVolume(_ session: Session) async throws -> VolumeOutcome {
        let restore = RestoreConfig(
            longhornNamespace: config.longhorn.namespace, backupTarget: config.longhorn.backupTarget, syncTimeout: .seconds(120),
            restoreTimeout: .seconds(600), concurrency: 1, skipFlag: RestoreConfig.Defaults.skipFlag,
            statusConfigMap: "longhorn-dr-exercise-setup",
            volumes: [RestoreConfig.Volume(name: config.workload.volume, pvcNamespace: config.workload.namespace, pvcName: config.workload.pvc,
                size: config.workload.size, replicas: 3, storageClass: config.workload.storageClass, fsType: .ext4,
                accessMode: .readWriteOnce, restore: .latest, onMissingBackup: .fresh)])
        let log = self.log
        let outcomes = await RestoreOrchestrator(config: restore, port: LonghornRestorePort(longhorn: session.workload.longhorn),
            log: { log("    volume: \($0)") }).run()
        guard let outcome = outcomes.first, outcome.succeeded else {
            throw DRError(.infrastructure, subject: "volume \(config.workload.volume)", detail: outcomes.first?.message ?? "no outcome")
        }
        return outcome
    }

    public func writeSentinel(_ bytes: Data) async throws -> Data {
        try await connect().workload.writeSentinel(bytes)
    }

    public func backUp() async throws -> BackupEvidence {
        try await connect().workload.backUp(backupTimeout: config.budgets.budget(for: .backup))
    }

    public func verifyInStore(_ backup: BackupEvidence) async throws -> [String: String] {
        let session = try await connect()
        return try await StoreCheck.verify(backup, sentinelFile: config.sentinel.file, targetName: config.longhorn.backupTarget,
            longhorn: session.workload.longhorn, workDirectory: workDirectory.appendingPathComponent("store-check"))
    }

    public func destroy() async throws {
        await disconnect()
        log("  running: \(config.cluster.destroy.joined(separator: " "))")
        try await CommandRunner.run(config.cluster.destroy, purpose: "destroy")
    }

    public func rebuild() async throws {
        await disconnect()
        log("  running: \(config.cluster.rebuild.joined(separator: " "))")
        try await CommandRunner.run(config.cluster.rebuild, purpose: "rebuild")
    }

    public func waitReady() async throws -> [String: String] {
        // The new cluster may take a while to answer; the phase budget bounds the wait.
        var session: Session?
        var lastProblem = ""
        while session == nil {
            do {
                session = try await connect()
            } catch {
                if "\(error)" != lastProblem {
                    lastProblem = "\(error)"
                    log("  waiting for the rebuilt cluster: \(lastProblem)")
                }
                try await Task.sleep(for: .seconds(5))
            }
        }
        guard let session else { throw CancellationError() }
        let longhorn = session.workload.longhorn
        let log = self.log
        _ = try await longhorn.waitUntilReadyForRestore(target: config.longhorn.backupTarget, timeout: config.budgets.budget(for: .waitReady)) {
            log("  \($0)")
        }
        let job = try await waitForRestoreJob(session)
        try await session.workload.applyWorkload(onlyIfMissing: true)
        let pod = try await session.workload.runningPod(timeout: config.budgets.budget(for: .waitReady))
        var facts = ["pod": pod, "restoreJob": job]
        if let status = try await session.client.getIfPresent(.configMaps, namespace: config.longhorn.namespace, name: RestoreConfig.Defaults.statusConfigMap) {
            facts["restoreSummary"] = status[path: ["data", "summary"]]?.stringValue ?? ""
        }
        return facts
    }

    /// Waits for the bootstrap's restore Job to appear and finish; a Failed Job fails the
    /// exercise, with the end of its log.
    private func waitForRestoreJob(_ session: Session) async throws -> String {
        let namespace = config.longhorn.namespace
        log("  waiting for Job \(namespace)/\(restoreJob) (the bootstrap's restore orchestrator) to finish")
        let finished = try await session.client.waitFor(.jobs, namespace: namespace, name: restoreJob,
            timeout: config.budgets.budget(for: .waitReady), until: "Complete or Failed") { job in
            Self.condition(job, "Complete") || Self.condition(job, "Failed")
        }
        guard Self.condition(finished, "Failed") == false else {
            let logs = (try? await Self.jobLog(session.client, namespace: namespace, job: restoreJob)) ?? "(no log)"
            throw DRError(.infrastructure, subject: "Job \(namespace)/\(restoreJob)", detail: "failed; its log ends:\n\(logs)",
                hint: "fix the cause, then delete the Job and let Flux recreate it; the exercise can continue with --resume")
        }
        return "Complete"
    }

    static func condition(_ job: JSONValue?, _ type: String) -> Bool {
        (job?[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    static func jobLog(_ client: KubeClient, namespace: String, job: String) async throws -> String {
        let pods = try await client.list(.pods, namespace: namespace, labelSelector: "job-name=\(job)")
        guard let pod = pods.items.last?[path: ["metadata", "name"]]?.stringValue else { return "(no pod)" }
        let text = try await client.logs(namespace: namespace, pod: pod, tailLines: 20)
        return text
    }

    public func readSentinel() async throws -> Data {
        try await connect().workload.readSentinel()
    }
}
