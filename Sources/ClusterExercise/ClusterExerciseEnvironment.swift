import DRCore
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn
import LonghornRestoreAdapter
import ProcessRunner
import RestoreOrchestrator

/// The DR exercise's phases against a cluster, through the real clients: the workload and
/// backup through the Kubernetes and Longhorn clients, the store check straight from the store,
/// and after the rebuild a wait for what the bootstrap is meant to do on its own. Where the
/// cluster comes from (a real one by kubeconfig and commands, or the built-in simulated one) is
/// the provisioner's business, and how the store is reached the opener's: `exercise --simulate`
/// runs exactly this code.
///
/// After the rebuild it waits for Longhorn, the restore orchestrator's Job Complete (a Failed
/// Job fails the exercise with its log), and the workload running on the restored volume. It
/// never restores anything itself after a rebuild, or the exercise would prove its own work
/// instead of the bootstrap's.
public actor ClusterExerciseEnvironment: ExerciseEnvironment {
    struct Session {
        var client: KubeClient
        var longhorn: LonghornClient
        var server: String
        /// What reaching this cluster gives away; logged once, reported by preflight.
        var warnings: [String]
    }

    let config: ExerciseConfig
    let provisioner: any ClusterProvisioner
    let storeOpener: any BackupStoreOpener
    let workDirectory: URL
    let log: @Sendable (String) -> Void
    /// The restore Job the bootstrap runs (kubernetes/platform/config/longhorn/restore-orchestrator).
    let restoreJob: String
    private var session: Session?

    public init(
        config: ExerciseConfig, provisioner: any ClusterProvisioner, storeOpener: any BackupStoreOpener, workDirectory: URL,
        restoreJob: String = ClusterExerciseEnvironment.defaultRestoreJob, log: @escaping @Sendable (String) -> Void
    ) {
        self.config = config
        self.provisioner = provisioner
        self.storeOpener = storeOpener
        self.workDirectory = workDirectory
        self.restoreJob = restoreJob
        self.log = log
    }

    /// The shipped restore Job's name (kubernetes/platform/config/longhorn/restore-orchestrator/job.yaml).
    public static let defaultRestoreJob = "longhorn-restore-orchestrator"

    public func shutdown() async {
        await disconnect()
        await provisioner.shutdown()
    }

    private func connect() async throws -> Session {
        if let session { return session }
        let connection = try await provisioner.connect()
        for warning in connection.warnings { log(warning) }
        let client = try KubeClient(cluster: connection.cluster)
        do {
            let longhorn = try await LonghornClient.connect(kube: client, namespace: config.longhorn.namespace)
            let connected = Session(client: client, longhorn: longhorn, server: connection.cluster.server.absoluteString, warnings: connection.warnings)
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

    /// Everything the rest of the run needs, checked before anything is destroyed: the
    /// provisioner's destroy and rebuild, debugfs, the cluster and Longhorn, the bootstrap's
    /// Complete restore Job with a config that lists every exercise volume, the Flux gate when
    /// the cluster runs Flux, and the store answering this workstation. Every problem at once.
    public func preflight() async throws -> PreflightFacts {
        var problems = await provisioner.preflightProblems()
        if ToolLocator.locate("debugfs") == nil {
            problems.append("debugfs is not installed; the store check needs it (apt-get install e2fsprogs)")
        }
        if let settings = config.alertmanager, let problem = await AlertmanagerHealthGate(settings).configurationProblem() {
            problems.append("\(problem); wait-ready would stop there after the rebuild")
        }
        let session: Session
        do {
            session = try await connect()
        } catch {
            problems.append("the cluster does not answer: \(Self.firstLine(error))")
            throw Self.preflightError(problems, hint: (error as? DRError)?.hint)
        }
        let longhorn = session.longhorn
        var facts = PreflightFacts(
            apiServer: session.server, longhorn: longhorn.version.description,
            backupTarget: (try? await longhorn.backupTargetURL(config.longhorn.backupTarget)) ?? "(none)")
        problems += await bootstrapProblems(session, facts: &facts)
        var warnings = session.warnings
        do {
            for workload in config.workloads {
                let store = try await StoreCheck.probe(
                    target: config.longhorn.backupTarget, volume: workload.volume,
                    longhorn: longhorn, opener: storeOpener)
                facts.store = store.url
                if let warning = store.warning, !warnings.contains(warning) {
                    log(warning)
                    warnings.append(warning)
                }
            }
        } catch {
            problems.append(Self.firstLine(error))
        }
        guard problems.isEmpty else { throw Self.preflightError(problems) }
        facts.warnings = warnings
        return facts
    }

    static func preflightError(_ problems: [String], hint: String? = nil) -> DRError {
        DRError(
            .environment, subject: "preflight", detail: "the rebuild would not work; nothing was destroyed:\n  - " + problems.joined(separator: "\n  - "),
            hint: (hint.map { "\($0); " } ?? "") + "fix these on the current cluster and workstation, then run the exercise again")
    }

    static func firstLine(_ error: any Error) -> String {
        "\(error)".split(separator: "\n").first.map(String.init) ?? "\(error)"
    }

    /// The rebuilt cluster restores only what its bootstrap does; check that bootstrap on the
    /// current cluster, where it must already have run once.
    private func bootstrapProblems(_ session: Session, facts: inout PreflightFacts) async -> [String] {
        let namespace = config.longhorn.namespace
        let subject = "Job \(namespace)/\(restoreJob)"
        var problems: [String] = []
        var job: JSONValue?
        do {
            job = try await session.client.getIfPresent(.jobs, namespace: namespace, name: restoreJob)
            if job != nil, !Self.condition(job, "Complete"), !Self.condition(job, "Failed") {
                log("  waiting for \(subject) (the bootstrap's restore orchestrator) to finish")
                job = try await session.client.waitFor(
                    .jobs, namespace: namespace, name: restoreJob,
                    timeout: PhaseBudget.remaining(), until: "Complete or Failed"
                ) { Self.condition($0, "Complete") || Self.condition($0, "Failed") }
            }
        } catch {
            problems.append("\(subject) cannot be read: \(Self.firstLine(error))")
        }
        if let job {
            if !Self.condition(job, "Complete") {
                problems.append("\(subject) is not Complete; the bootstrap's restore must work on this cluster before it is destroyed")
            }
            facts.restoreJob = Self.condition(job, "Complete") ? "Complete" : "not Complete"
            problems += await restoreConfigProblems(session, job: job)
        } else if problems.isEmpty {
            problems.append(
                "\(subject) does not exist: the rebuilt cluster's bootstrap would not restore the volume (apply kubernetes/platform/config/longhorn/restore-orchestrator through Flux)"
            )
        }
        // The Flux gate, when the cluster runs Flux: it keeps the workloads back until the Job is Complete.
        let kustomizations = GroupVersionResource(group: "kustomize.toolkit.fluxcd.io", version: "v1", resource: "kustomizations", namespaced: true)
        do {
            let all = try await session.client.list(kustomizations, namespace: "flux-system")
            if let gate = all.items.first(where: { $0[path: ["metadata", "name"]]?.stringValue == restoreJob }) {
                if !Self.condition(gate, "Ready") {
                    problems.append("the Flux Kustomization flux-system/\(restoreJob) is not Ready")
                }
                facts.fluxGate = Self.condition(gate, "Ready") ? "Ready" : "not Ready"
            } else {
                problems.append(
                    "the Flux Kustomization flux-system/\(restoreJob) (the restore gate) does not exist (kubernetes/platform/flux/longhorn-restore-orchestrator.yaml)"
                )
            }
        } catch  where error.code == .notFound {
            facts.fluxGate = "no Flux on this cluster: not checked"
        } catch {
            problems.append("the Flux Kustomization flux-system/\(restoreJob) cannot be read: \(Self.firstLine(error))")
        }
        return problems
    }

    /// The Job's restore config (its ConfigMap volume) must list the exercise volume and its PVC.
    private func restoreConfigProblems(_ session: Session, job: JSONValue) async -> [String] {
        let namespace = config.longhorn.namespace
        let volumes = job[path: ["spec", "template", "spec", "volumes"]]?.arrayValue ?? []
        guard let name = volumes.compactMap({ $0[path: ["configMap", "name"]]?.stringValue }).first else {
            return ["Job \(namespace)/\(restoreJob) mounts no restore ConfigMap"]
        }
        do {
            let map = try await session.client.get(.configMaps, namespace: namespace, name: name)
            let data = map["data"]?.objectValue ?? [:]
            guard let (key, text) = data.first(where: { $0.key.hasSuffix(".yaml") }).flatMap({ entry in entry.value.stringValue.map { (entry.key, $0) } })
            else {
                return ["ConfigMap \(namespace)/\(name) holds no restore config (*.yaml)"]
            }
            let restore = try ConfigLoader.loadRestore(text, file: "ConfigMap \(namespace)/\(name) \(key)")
            var problems: [String] = []
            for workload in config.workloads {
                guard let entry = restore.volumes.first(where: { $0.name == workload.volume }) else {
                    problems.append(
                        "the restore config (ConfigMap \(namespace)/\(name)) does not list volume \(workload.volume): the rebuilt cluster would not restore it")
                    continue
                }
                if entry.pvcNamespace != workload.namespace || entry.pvcName != workload.pvc {
                    problems.append(
                        "the restore config binds volume \(workload.volume) to PVC \(entry.pvcNamespace)/\(entry.pvcName), the exercise uses \(workload.namespace)/\(workload.pvc)"
                    )
                }
            }
            if restore.backupTarget != config.longhorn.backupTarget {
                problems.append("the restore config reads backup target \(restore.backupTarget), the exercise backs up to \(config.longhorn.backupTarget)")
            }
            return problems
        } catch {
            return ["the restore ConfigMap \(namespace)/\(name) cannot be used: \(Self.firstLine(error))"]
        }
    }

    public func clusterFingerprint() async throws -> String {
        try await ExerciseWorkload.fingerprint(connect().client)
    }

    private func workload(_ workload: ExerciseConfig.Workload) async throws -> ExerciseWorkload {
        let session = try await connect()
        return ExerciseWorkload(config: config, workload: workload, client: session.client, longhorn: session.longhorn)
    }

    public func backupInventory(_ workload: ExerciseConfig.Workload) async throws -> BackupInventory {
        try await self.workload(workload).backupInventory()
    }

    public func setUpWorkloads() async throws -> [String: WorkloadSetup] {
        let session = try await connect()
        // The well-known volumes must exist before the PVCs can bind: the same decision the
        // bootstrap makes (keep, restore, or a fresh one when the store has none), in one run.
        let log = self.log
        let restore = ExerciseWorkload.setupRestoreConfig(config, statusConfigMap: "longhorn-dr-exercise-setup")
        let outcomes = await RestoreOrchestrator(
            config: restore, port: LonghornRestorePort(longhorn: session.longhorn),
            log: { log("    volume: \($0)") }
        ).run()
        let failed = outcomes.filter { !$0.succeeded }
        guard failed.isEmpty, outcomes.count == config.workloads.count else {
            throw DRError(
                .infrastructure, subject: failed.map { "volume \($0.volume)" }.joined(separator: ", "),
                detail: failed.map(\.message).joined(separator: "; "))
        }
        var setups: [String: WorkloadSetup] = [:]
        for workload in config.workloads {
            let exercise = try await self.workload(workload)
            try await exercise.applyWorkload(onlyIfMissing: true)
            let pod = try await exercise.runningPod(timeout: PhaseBudget.remaining())
            setups[workload.volume] = WorkloadSetup(pod: pod, volumeDecision: outcomes.first { $0.volume == workload.volume }?.decision ?? "")
        }
        return setups
    }

    public func writeSentinel(_ bytes: Data, into workload: ExerciseConfig.Workload) async throws -> Data {
        try await self.workload(workload).writeSentinel(bytes)
    }

    public func backUp(_ workload: ExerciseConfig.Workload) async throws -> BackupEvidence {
        try await self.workload(workload).backUp(timeout: PhaseBudget.remaining())
    }

    public func verifyInStore(_ backup: BackupEvidence) async throws -> StoreCheckResult {
        let session = try await connect()
        return try await StoreCheck.verify(
            backup, sentinelFile: config.sentinel.file, target: config.longhorn.backupTarget,
            longhorn: session.longhorn, opener: storeOpener, workDirectory: workDirectory.appendingPathComponent("store-check"))
    }

    public func destroy() async throws {
        await disconnect()
        try await provisioner.destroy()
    }

    public func rebuild() async throws {
        await disconnect()
        try await provisioner.rebuild()
    }

    public func waitReady() async throws -> RebuiltCluster {
        // The new cluster may take a while to answer; the phase budget (the runner's) bounds the
        // wait. Each wait below ends a little before it, so its own message (what was missing)
        // is the one reported rather than a bare timeout.
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
        let longhorn = session.longhorn
        let log = self.log
        _ = try await longhorn.waitUntilReadyForRestore(target: config.longhorn.backupTarget, timeout: PhaseBudget.remaining()) {
            log("  \($0)")
        }
        let fingerprint = try await ExerciseWorkload.fingerprint(session.client)
        let job = try await waitForRestoreJob(session, timeout: PhaseBudget.remaining())
        // "All workloads healthy afterwards", as GitOps says it: every Kustomization and HelmRelease Ready.
        let flux = try await FluxHealthGate(allowNotReady: config.flux.allowNotReady).wait(client: session.client, timeout: PhaseBudget.remaining(), log: log)
        log("  Flux: \(flux)")
        // And as the cluster's own monitoring says it, when the config names its Alertmanager.
        var alertmanager: String?
        if let settings = config.alertmanager {
            let seen = try await AlertmanagerHealthGate(settings).wait(timeout: PhaseBudget.remaining(), log: log)
            log("  Alertmanager: \(seen)")
            alertmanager = seen
        } else {
            log("  Alertmanager: not checked (the config has no alertmanager section)")
        }
        return RebuiltCluster(
            clusterFingerprint: fingerprint, restoreStartedAt: job[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "",
            restoreJob: "Complete", flux: flux, alertmanager: alertmanager)
    }

    /// Writes the forensics bundle of a run that did not PASS into `folder` (see
    /// ``ForensicsBundle``), from whatever cluster answers now; returns the folder.
    public func collectForensics(into folder: URL, journal: URL?) async throws -> URL {
        var client: KubeClient?
        var problem: String?
        do {
            client = try await connect().client
        } catch {
            problem = "the cluster did not answer: \(error)"
        }
        return try await ForensicsBundle(folder: folder).collect(
            client: client, connectionProblem: problem, config: config, restoreJob: restoreJob, statusConfigMap: RestoreConfig.Defaults.statusConfigMap,
            journal: journal)
    }

    public func workloadReady(_ workload: ExerciseConfig.Workload) async throws -> RestoredWorkload {
        let exercise = try await self.workload(workload)
        let remaining = PhaseBudget.remaining()
        // The bootstrap (Flux) applies the workload once the gate passed; applying it here would
        // prove nothing about the bootstrap and race its rollout.
        log("  waiting for deployment \(workload.namespace)/\(workload.deployment) (applied by the bootstrap) to run a pod")
        let pod = try await exercise.waitForDeployedWorkload(timeout: remaining)
        return try await exercise.restoreRecord(pod: pod)
    }

    /// Waits for the bootstrap's restore Job to appear and finish; a Failed Job fails the
    /// exercise, with the end of its log.
    private func waitForRestoreJob(_ session: Session, timeout: Duration) async throws -> JSONValue {
        let namespace = config.longhorn.namespace
        log("  waiting for Job \(namespace)/\(restoreJob) (the bootstrap's restore orchestrator) to finish")
        let found = try await session.client.waitFor(
            .jobs, namespace: namespace, name: restoreJob,
            timeout: timeout, until: "Complete or Failed"
        ) { job in
            Self.condition(job, "Complete") || Self.condition(job, "Failed")
        }
        guard let finished = found, Self.condition(finished, "Failed") == false else {
            let logs = (try? await Self.jobLog(session.client, namespace: namespace, job: restoreJob)) ?? "(no log)"
            throw DRError(
                .infrastructure, subject: "Job \(namespace)/\(restoreJob)", detail: "failed; its log ends:\n\(logs)",
                hint: "fix the cause, then delete the Job and let Flux recreate it; the exercise can continue with --resume")
        }
        return finished
    }

    /// Whether a Job (or any object with conditions) has condition `type` True.
    public static func condition(_ job: JSONValue?, _ type: String) -> Bool {
        (job?[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    static func jobLog(_ client: KubeClient, namespace: String, job: String) async throws -> String {
        let pods = try await client.list(.pods, namespace: namespace, labelSelector: "job-name=\(job)")
        guard let pod = pods.items.last?[path: ["metadata", "name"]]?.stringValue else { return "(no pod)" }
        let text = try await client.logs(namespace: namespace, pod: pod, tailLines: 20)
        return text
    }

    public func readSentinel(from workload: ExerciseConfig.Workload) async throws -> Data {
        try await self.workload(workload).readSentinel()
    }
}
