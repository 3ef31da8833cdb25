import Backupstore
import ClusterExercise
import DRCore
import Foundation
import KubeClient
import KubeModels
import Longhorn

/// `assure --restore-test`: Longhorn restores a volume's newest backup into a scratch volume, a
/// reader pod reads that volume back as a block device (`longhorn-dr image-digest`), and its digest
/// must equal the one the backup's block list gives. This proves what verifying the store cannot:
/// that the cluster's own Longhorn, its engine and its disks turn the backup into the right bytes.
///
/// Only objects it made are touched: every one carries ``label`` and a name starting with
/// ``namePrefix``, and each is checked for both before it is deleted. The real volume is never read
/// or changed. Leftovers of an interrupted run are removed first.
public struct RestoreTest: Sendable {
    /// Marks everything a restore test creates.
    public static let label = "longhorn-dr.io/restore-test"
    public static let namePrefix = "lhdr-restore-test-"
    /// Unix seconds after which the run that made the object is over (label value).
    public static let untilLabel = "longhorn-dr.io/restore-test-until"
    /// Time past the timeout a run may spend removing its objects.
    static let cleanupAllowance = 600
    /// Where the reader pod sees the scratch volume's device.
    public static let devicePath = "/run/longhorn-dr/scratch"

    public struct Settings: Sendable {
        /// The image of the reader pod (this tool's image: it runs `longhorn-dr image-digest`).
        public var image: String
        /// For the restore and the read together; size it to the volume.
        public var timeout: Duration
        /// Longhorn replicas of the scratch volume (one is enough to read it back).
        public var replicas: Int

        public init(image: String, timeout: Duration = .seconds(3600), replicas: Int = 1) {
            self.image = image
            self.timeout = timeout
            self.replicas = replicas
        }
    }

    /// What one restore test found.
    public struct Outcome: Sendable, Equatable {
        public var volume: String
        public var backup: String
        public var scratchVolume: String
        public var passed: Bool
        /// What matched, or why it failed, in words.
        public var detail: String
        public var duration: Duration
        /// How a failure maps to an exit status (`.verificationFailed` when the data differs).
        public var status: ExitStatus
        /// Objects the cleanup could not remove (the next run removes them).
        public var leftovers: [String] = []

        /// A restore test that could not start: nothing was created.
        public static func notStarted(volume: String, backup: String, detail: String, status: ExitStatus) -> Outcome {
            Outcome(volume: volume, backup: backup, scratchVolume: "", passed: false, detail: "restore test: \(detail)", duration: .zero, status: status)
        }
    }

    public var longhorn: LonghornClient
    public var settings: Settings
    /// Progress on the long waits, in words.
    public var note: @Sendable (String) -> Void

    public init(longhorn: LonghornClient, settings: Settings, note: @escaping @Sendable (String) -> Void = { _ in }) {
        self.longhorn = longhorn
        self.settings = settings
        self.note = note
    }

    var kube: KubeClient { longhorn.kube }
    var namespace: String { longhorn.namespace }

    /// Restores `backup` (the cluster's Backup CR of the store's newest backup of `volume`) into a
    /// scratch volume and compares what it holds with `expected`. Never throws: every failure,
    /// including the cleanup's, is in the outcome.
    public func run(volume: String, backup: Backup, expected: ImageDigest, clock: ContinuousClock = ContinuousClock()) async -> Outcome {
        let start = clock.now
        let scratch = Self.namePrefix + String(UUID().uuidString.lowercased().prefix(8))
        var outcome = Outcome(
            volume: volume, backup: backup.metadata.name, scratchVolume: scratch, passed: false, detail: "", duration: .zero, status: .verificationFailed)
        let leftovers = await removeLeftovers()
        if !leftovers.isEmpty { note("restore test: removed what an earlier run left: \(leftovers.joined(separator: ", "))") }
        do {
            let found = try await restoreAndRead(
                scratch: scratch, backup: backup, blockSize: expected.blockSize, deadline: start + settings.timeout, clock: clock)
            let differing = found.differingSegments(from: expected)
            if found.digest == expected.digest {
                outcome.passed = true
                outcome.status = .ok
                outcome.detail =
                    "restored into \(scratch) by the cluster's Longhorn and read back: the same \(expected.dataBlocks) data blocks as the backup lists"
            } else {
                let ranges = differing.prefix(5).map { "\($0) GiB–\($0 + 1) GiB" }.joined(separator: ", ")
                outcome.detail =
                    "restore test: \(scratch), restored by the cluster's Longhorn from \(backup.metadata.name), does not hold the backup's data: "
                    + "\(found.dataBlocks) data blocks read back, \(expected.dataBlocks) listed; differs in \(differing.count) GiB range\(differing.count == 1 ? "" : "s")"
                    + (ranges.isEmpty ? "" : " (\(ranges)\(differing.count > 5 ? ", …" : ""))")
                    + "; check the replicas' disks and the engine logs, and restore this backup by hand to compare"
            }
        } catch let error as RestoreTestError {
            outcome.detail = "restore test: \(error.message)"
            outcome.status = error.status
        } catch {
            let failure = FailureMapping.drError(error)
            outcome.detail = "restore test: \(failure.description)"
            outcome.status = failure.status == .ok ? .infrastructure : failure.status
        }
        outcome.leftovers = await remove(scratch)
        if !outcome.leftovers.isEmpty {
            outcome.detail += "; could not remove \(outcome.leftovers.joined(separator: ", ")) (the next run removes them)"
        }
        outcome.duration = clock.now - start
        return outcome
    }

    struct RestoreTestError: Error {
        var message: String
        var status: ExitStatus
    }

    private func restoreAndRead(scratch: String, backup: Backup, blockSize: Int64, deadline: ContinuousClock.Instant, clock: ContinuousClock) async throws
        -> ImageDigest
    {
        func remaining() throws -> Duration {
            let left = deadline - clock.now
            guard left > .zero else {
                throw RestoreTestError(message: "ran out of its --restore-test-timeout of \(DurationText.format(settings.timeout))", status: .infrastructure)
            }
            return left
        }
        // Until when this run may still be using them: a later run removes them only after that,
        // so two runs at once (a manual Job beside the CronJob's) never delete each other's.
        let until = Int(Date().timeIntervalSince1970) + Int(settings.timeout.components.seconds) + Self.cleanupAllowance
        let labels = [Self.label: "true", Self.untilLabel: String(until), "app.kubernetes.io/managed-by": "longhorn-dr"]
        note("restore test: Longhorn restores \(backup.metadata.name) into scratch volume \(scratch)")
        do {
            _ = try await longhorn.createRestoreVolume(
                name: scratch, from: backup, options: VolumeOptions(numberOfReplicas: settings.replicas, labels: labels))
            let note = note
            _ = try await longhorn.waitForRestore(scratch, timeout: try remaining()) { progress in
                note("restore test: \(scratch): \(progress.description)")
            }
        } catch let error as LonghornError {
            if error.code == .timeout {
                throw RestoreTestError(
                    message:
                        "Longhorn did not finish restoring \(backup.metadata.name) into \(scratch) within --restore-test-timeout \(DurationText.format(settings.timeout)): \(error.detail)",
                    status: .infrastructure)
            }
            let status: ExitStatus = error.code == .restoreFailed ? .verificationFailed : .infrastructure
            throw RestoreTestError(message: "Longhorn could not restore \(backup.metadata.name) into \(scratch): \(error)", status: status)
        }
        guard let size = backup.volumeSizeBytes else {
            throw RestoreTestError(message: "\(backup.subject) has no status.volumeSize", status: .infrastructure)
        }
        let claim = ClaimReference(namespace: namespace, name: scratch)
        var pv = PersistentVolumeRequest(volumeName: scratch, capacityBytes: size, storageClassName: "", claim: claim, volumeMode: "Block").manifest
        pv[path: ["metadata", "labels"]] = .object(labels.mapValues { .string($0) })
        try await kube.create(.persistentVolumes, object: pv)
        try await kube.create(.persistentVolumeClaims, namespace: namespace, object: Self.claim(scratch, size: size, labels: labels))
        try await kube.create(.pods, namespace: namespace, object: Self.readerPod(scratch, image: settings.image, blockSize: blockSize, labels: labels))
        note("restore test: pod \(namespace)/\(scratch) reads the scratch volume back")
        let pod = try await kube.waitFor(.pods, namespace: namespace, name: scratch, timeout: try remaining(), until: "finished") { pod in
            guard let phase = pod?[path: ["status", "phase"]]?.stringValue else { return pod == nil }
            return phase == "Succeeded" || phase == "Failed"
        }
        let log = (try? await kube.logs(namespace: namespace, pod: scratch)) ?? ""
        guard let pod, pod[path: ["status", "phase"]]?.stringValue == "Succeeded" else {
            let tail = log.split(separator: "\n").suffix(3).joined(separator: " | ")
            throw RestoreTestError(
                message: "the reader pod \(namespace)/\(scratch) \(pod == nil ? "disappeared" : "failed")\(tail.isEmpty ? "" : ": \(tail)")",
                status: .infrastructure)
        }
        guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let digest = try? JSONDecoder().decode(ImageDigest.self, from: Data(line.utf8))
        else {
            throw RestoreTestError(message: "the reader pod \(namespace)/\(scratch) printed no digest: \(log.suffix(300))", status: .infrastructure)
        }
        return digest
    }

    static func claim(_ name: String, size: Int64, labels: [String: String]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) })],
            "spec": [
                "accessModes": ["ReadWriteOnce"], "volumeMode": "Block", "storageClassName": "", "volumeName": .string(name),
                "resources": ["requests": ["storage": .string(PersistentVolumeRequest.quantity(bytes: size))]],
            ],
        ]
    }

    /// The pod that reads the scratch volume: this tool's image, non-root, nothing writable, no
    /// API token; group disk (6) because block devices belong to root:disk on the node.
    static func readerPod(_ name: String, image: String, blockSize: Int64, labels: [String: String]) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "labels": .object(labels.mapValues { .string($0) })],
            "spec": [
                "restartPolicy": "Never",
                "automountServiceAccountToken": false,
                "securityContext": [
                    "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "supplementalGroups": [6],
                    "seccompProfile": ["type": "RuntimeDefault"],
                ],
                "containers": [
                    [
                        "name": "reader", "image": .string(image), "command": ["longhorn-dr"],
                        "args": ["image-digest", "--block-size", .string(String(blockSize)), .string(devicePath)],
                        "volumeDevices": [["name": "scratch", "devicePath": .string(devicePath)]],
                        "securityContext": [
                            "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": ["drop": ["ALL"]],
                        ],
                        "resources": ["requests": ["cpu": "100m", "memory": "32Mi"], "limits": ["memory": "128Mi"]],
                    ]
                ],
                "volumes": [["name": "scratch", "persistentVolumeClaim": ["claimName": .string(name), "readOnly": true]]],
            ],
        ]
    }

    // MARK: - Cleanup

    /// Removes every object of a restore test named `scratch`: pod, claim, PV, then the Longhorn
    /// volume, each only when it carries the label. Returns what could not be removed.
    func remove(_ scratch: String) async -> [String] {
        var left: [String] = []
        let steps: [(GroupVersionResource, String?, String)] = [
            (.pods, namespace, "pod"), (.persistentVolumeClaims, namespace, "persistentvolumeclaim"), (.persistentVolumes, nil, "persistentvolume"),
            (LonghornResources.volumes, namespace, "volume.longhorn.io"),
        ]
        for (resource, namespace, kind) in steps {
            do {
                guard let object = try await kube.getIfPresent(resource, namespace: namespace, name: scratch) else { continue }
                guard Self.isOurs(object) else {
                    left.append("\(kind) \(scratch) (not labelled \(Self.label); left alone)")
                    continue
                }
                try await kube.delete(resource, namespace: namespace, name: scratch, waitUntilGone: .seconds(120))
            } catch {
                left.append("\(kind) \(scratch) (\(error))")
            }
        }
        return left
    }

    /// Deletes what earlier, interrupted runs left: Longhorn volumes labelled as restore tests
    /// whose run is over (past their `until` label; one without it counts as over).
    func removeLeftovers(now: Date = Date()) async -> [String] {
        guard let volumes = try? await kube.list(LonghornResources.volumes, namespace: namespace, labelSelector: "\(Self.label)=true").items else { return [] }
        var removed: [String] = []
        for volume in volumes {
            guard let name = volume[path: ["metadata", "name"]]?.stringValue, Self.isOurs(volume) else { continue }
            if let until = volume[path: ["metadata", "labels", Self.untilLabel]]?.stringValue.flatMap(Double.init), until > now.timeIntervalSince1970 {
                continue
            }
            if await remove(name).isEmpty { removed.append(name) }
        }
        return removed
    }

    /// The volume to test this run: the next after `last` in `volumes` (round robin) among those
    /// that are `eligible` (passed the store check), or nil when none is.
    public static func pick(_ volumes: [String], after last: String?, eligible: Set<String>) -> String? {
        let start = last.flatMap { volumes.firstIndex(of: $0) }.map { $0 + 1 } ?? 0
        guard !volumes.isEmpty else { return nil }
        for step in 0..<volumes.count {
            let candidate = volumes[(start + step) % volumes.count]
            if eligible.contains(candidate) { return candidate }
        }
        return nil
    }

    static func isOurs(_ object: JSONValue) -> Bool {
        object[path: ["metadata", "labels", label]]?.stringValue == "true"
            && (object[path: ["metadata", "name"]]?.stringValue ?? "").hasPrefix(namePrefix)
    }
}
