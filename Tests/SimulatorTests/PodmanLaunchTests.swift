import Foundation
import KubeModels
import Testing

@testable import Simulator

/// What the simulated kubelet turns a pod spec into for podman, and what it refuses to start, in
/// the kubelet's words. The real runs are in scripts/e2e-image and scripts/e2e-restore-job.
@Suite struct PodmanLaunchTests {
    static let nonRootImage = PodmanEngine.Image(id: "abc", user: "65532:65532")
    static let rootImage = PodmanEngine.Image(id: "abc", user: "")

    func pod(podContext: JSONValue = [:], containerContext: JSONValue = [:], command: [String] = ["longhorn-dr"], args: [String] = ["restore"]) -> (
        JSONValue, JSONValue
    ) {
        let container: JSONValue = [
            "name": "orchestrator", "image": "ghcr.io/longhorn-dr/longhorn-dr:0.1.0",
            "command": .array(command.map { .string($0) }), "args": .array(args.map { .string($0) }),
            "securityContext": containerContext,
        ]
        let pod: JSONValue = [
            "metadata": ["name": "job-x", "namespace": "longhorn-system", "uid": "u-1"],
            "spec": ["securityContext": podContext, "containers": [container]],
        ]
        return (pod, container)
    }

    func plan(
        _ pod: JSONValue, _ container: JSONValue, image: PodmanEngine.Image = nonRootImage, mounts: [VolumeMount] = [], environment: [String: String] = [:]
    )
        -> Result<PodmanLaunch, PodmanLaunch.Refusal>
    {
        PodmanLaunch.plan(
            pod: pod, container: container, image: image, name: "c1", reference: "ghcr.io/longhorn-dr/longhorn-dr:0.1.0", mounts: mounts,
            environment: environment)
    }

    @Test func theOrchestratorsSecurityContextBecomesPodmanFlags() throws {
        let (pod, container) = pod(
            podContext: ["runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532, "seccompProfile": ["type": "RuntimeDefault"]],
            containerContext: ["allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": ["drop": ["ALL"]]])
        let launch = try plan(
            pod, container, mounts: [VolumeMount(source: "/d/config", target: "/etc/longhorn-dr", readOnly: true)],
            environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1"]
        ).get()
        let text = launch.arguments.joined(separator: " ")
        #expect(text.contains("--user 65532:65532"))
        #expect(text.contains("--read-only --read-only-tmpfs=false"))
        #expect(text.contains("--security-opt no-new-privileges"))
        #expect(text.contains("--cap-drop ALL"))
        #expect(text.contains("--network host"))
        #expect(text.contains("--pull never"))
        #expect(text.contains("--mount type=bind,source=/d/config,destination=/etc/longhorn-dr,ro=true"))
        #expect(text.contains("--env KUBERNETES_SERVICE_HOST=127.0.0.1"))
        #expect(!text.contains("seccomp=unconfined"))
        // command replaces the entrypoint; args follow the image.
        #expect(text.hasSuffix("--entrypoint [\"longhorn-dr\"] ghcr.io/longhorn-dr/longhorn-dr:0.1.0 restore"))
        #expect(launch.runAsUser == 65532 && launch.fsGroup == nil)
    }

    @Test func theContainerContextWinsOverThePods() throws {
        let (pod, container) = pod(podContext: ["runAsUser": 1000, "fsGroup": 2000, "supplementalGroups": [3000]], containerContext: ["runAsUser": 1001])
        let launch = try plan(pod, container).get()
        let text = launch.arguments.joined(separator: " ")
        #expect(text.contains("--user 1001 "))
        #expect(text.contains("--group-add 2000 --group-add 3000"))
        #expect(!text.contains("--read-only"))
        #expect(!text.contains("no-new-privileges"))
        #expect(launch.fsGroup == 2000)
    }

    @Test func runAsNonRootRefusesAnImageThatRunsAsRoot() {
        let (pod, container) = pod(podContext: ["runAsNonRoot": true])
        #expect(
            plan(pod, container, image: Self.rootImage)
                == .failure(
                    .init(
                        reason: "CreateContainerConfigError",
                        message: "container has runAsNonRoot and image will run as root (pod: \"job-x_longhorn-system(u-1)\", container: orchestrator)")))
        #expect(plan(pod, container, image: .init(id: "a", user: "0:0")).map(\.arguments) == plan(pod, container, image: Self.rootImage).map(\.arguments))
        #expect(plan(pod, container, image: .init(id: "a", user: "root")).map(\.arguments) == plan(pod, container, image: Self.rootImage).map(\.arguments))
    }

    @Test func runAsNonRootRefusesANamedImageUserAndUserZero() {
        let (pod, container) = pod(podContext: ["runAsNonRoot": true])
        guard case .failure(let named) = plan(pod, container, image: .init(id: "a", user: "nonroot")) else {
            Issue.record("a named image user was accepted")
            return
        }
        #expect(named.message.hasPrefix("container has runAsNonRoot and image has non-numeric user (nonroot), cannot verify user is non-root"))
        let (zero, zeroContainer) = self.pod(podContext: ["runAsNonRoot": true, "runAsUser": 0])
        guard case .failure(let refusal) = plan(zero, zeroContainer) else {
            Issue.record("runAsUser 0 with runAsNonRoot was accepted")
            return
        }
        #expect(refusal.message.hasPrefix("container's runAsUser breaks non-root policy"))
    }

    @Test func runAsNonRootAcceptsANumericImageUserOrAnExplicitOne() throws {
        let (pod, container) = pod(podContext: ["runAsNonRoot": true])
        let launch = try plan(pod, container, image: Self.nonRootImage).get()
        #expect(!launch.arguments.contains("--user"))
        let (explicit, explicitContainer) = self.pod(podContext: ["runAsNonRoot": true, "runAsUser": 65532])
        #expect(throws: Never.self) { try plan(explicit, explicitContainer, image: Self.rootImage).get() }
    }

    @Test func argsAloneKeepTheImagesEntrypoint() throws {
        let (pod, container) = pod(command: [], args: ["version"])
        let arguments = try plan(pod, container).get().arguments
        #expect(!arguments.contains("--entrypoint"))
        #expect(arguments.suffix(2) == ["ghcr.io/longhorn-dr/longhorn-dr:0.1.0", "version"])
    }

    @Test func aMountPathWithACommaIsRefusedNotSplit() {
        let (pod, container) = pod()
        guard case .failure = plan(pod, container, mounts: [VolumeMount(source: "/d/a,b", target: "/x")]) else {
            Issue.record("a comma in a mount path would have added mount options")
            return
        }
    }

    @Test func fsGroupMakesVolumesGroupWritableAndTheTokenGoesToTheUser() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-ownership-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        let account = root.appendingPathComponent("sa")
        try FileManager.default.createDirectory(at: data.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: account, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: data.appendingPathComponent("sub/file"))
        try VolumeDataStore.writePrivate(Data("token".utf8), to: account.appendingPathComponent("token"))
        VolumeOwnership.apply(
            mounts: [
                VolumeMount(source: data.path, target: "/data"), VolumeMount(source: account.path, target: PodVolumes.serviceAccountPath, readOnly: true),
            ], runAsUser: 65532, fsGroup: nil)
        var info = stat()
        // Without fsGroup the data keeps its mode; the token is the user's alone.
        #expect(stat(account.appendingPathComponent("token").path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        if geteuid() == 0 { #expect(info.st_uid == 65532) }
        #expect(stat(data.appendingPathComponent("sub/file").path, &info) == 0 && info.st_mode & 0o070 == 0o040)
        VolumeOwnership.apply(mounts: [VolumeMount(source: data.path, target: "/data")], runAsUser: 65532, fsGroup: Int(getegid()))
        #expect(stat(data.appendingPathComponent("sub/file").path, &info) == 0 && info.st_mode & 0o060 == 0o060)
        #expect(stat(data.appendingPathComponent("sub").path, &info) == 0 && info.st_mode & 0o2070 == 0o2070)
    }

    /// A podman container is ContainerCreating (pod Pending) until podman reports it started:
    /// `podman run` takes a moment, and a client that waits for Running may exec at once.
    @Test func aContainerIsPendingUntilTheEngineSaysItStarted() throws {
        let instance = ContainerInstance(name: "c", log: ContainerLog(), state: .creating, changes: ChangeCounter(), containerID: "podman://x")
        let pod: JSONValue = ["metadata": ["uid": "u"], "spec": ["containers": [["name": "c", "image": "i"]]]]
        var status: JSONValue = [:]
        Kubelet.report(&status, pod: pod, uid: "u", instances: ["c": instance], now: Date())
        #expect(status["phase"]?.stringValue == "Pending")
        #expect(status[path: ["containerStatuses"]]?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue == "ContainerCreating")
        let start = Date(timeIntervalSince1970: 1_000)
        instance.started(at: start)
        Kubelet.report(&status, pod: pod, uid: "u", instances: ["c": instance], now: Date())
        #expect(status["phase"]?.stringValue == "Running")
        #expect(instance.state == .running(startedAt: start))
        // Only once: a late report does not move the start time.
        instance.started(at: Date(timeIntervalSince1970: 2_000))
        #expect(instance.state == .running(startedAt: start))
        instance.exited(0, now: Date(timeIntervalSince1970: 3_000))
        #expect(instance.state == .terminated(exitCode: 0, startedAt: start, finishedAt: Date(timeIntervalSince1970: 3_000)))
        // A container that ended before it was seen running still ends.
        let quick = ContainerInstance(name: "q", log: ContainerLog(), state: .creating, changes: ChangeCounter(), containerID: "podman://y")
        quick.exited(1, now: start)
        #expect(quick.state == .terminated(exitCode: 1, startedAt: start, finishedAt: start))
    }
}
