import ClusterExercise
import DRCore
import Foundation
import KubeClient
import KubeModels
import ProcessRunner
import SimulatedFlux
import Simulator
import SimulatorTestSupport
import Testing

/// The simulated Flux gating workloads on a Job, as flux-facts.md describes kustomize-controller:
/// each behaviour the restore gate relies on, against a simulated cluster whose kubelet runs the
/// Jobs' pods for real. Each test would fail if the behaviour were missing.
@Suite(.serialized) struct FluxSimulationTests {
    static let kustomizations = GroupVersionResource(group: "kustomize.toolkit.fluxcd.io", version: "v1", resource: "kustomizations", namespaced: true)
    static let gitRepositories = GroupVersionResource(group: "source.toolkit.fluxcd.io", version: "v1", resource: "gitrepositories", namespaced: true)

    /// A source folder, a cluster, Flux on it; `body` gets the client and the folder.
    /// The simulation a test body runs against, for its failure messages.
    @TaskLocal static var currentFlux: FluxSimulation?

    func withFlux(_ body: @Sendable (KubeClient, URL) async throws -> Void) async throws {
        let kubectl = try #require(
            ToolLocator.locate("kubectl"), "kubectl is needed for kustomize builds: run scripts/install-tools and put .tools/venv/bin on PATH")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-flux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await SimulatorHarness.withClient { client, _, _ in
            var options = FluxSimulation.Options(sourceFolder: folder, kubectl: kubectl)
            options.requeueDependency = .milliseconds(300)
            options.healthPollInterval = .milliseconds(200)
            options.tick = .milliseconds(100)
            let flux = FluxSimulation(client: client, options: options)
            try await flux.install()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await flux.run() }
                defer { group.cancelAll() }
                try await Self.$currentFlux.withValue(flux) { try await body(client, folder) }
            }
        }
    }

    static func write(_ text: String, to file: String, in folder: URL) throws {
        let url = folder.appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// A gate folder: a Job running `script`, with the force annotation when asked.
    static func gate(script: String, force: Bool = true, ttl: Int? = nil, marker: String = "1") -> String {
        """
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: gate
          namespace: default
        \(force ? "  annotations:\n    kustomize.toolkit.fluxcd.io/force: enabled\n" : "")spec:
          backoffLimit: 0
        \(ttl.map { "  ttlSecondsAfterFinished: \($0)\n" } ?? "")  template:
            spec:
              restartPolicy: Never
              containers:
                - name: main
                  image: busybox:1.37
                  command: ["sh", "-c", \(try! String(decoding: JSONEncoder().encode(script), as: UTF8.self))]
                  env:
                    - name: MARKER
                      value: "\(marker)"
        """
    }

    static let app = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: app
          namespace: default
        data:
          started: "yes"
        """

    /// The gate Kustomization (wait: true) and the app behind it (dependsOn the gate).
    static func applyKustomizations(_ client: KubeClient, gateTimeout: String = "5m", appDependsOnGate: Bool = true, gateSpec: JSONValue = [:]) async throws {
        var gate: JSONValue = [
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": ["name": "gate", "namespace": "flux-system"],
            "spec": [
                "interval": "1h", "retryInterval": "1h", "path": "./gate", "prune": true, "wait": true, "timeout": .string(gateTimeout),
                "sourceRef": ["kind": "GitRepository", "name": "flux-system"],
            ],
        ]
        for (key, value) in gateSpec.objectValue ?? [:] { gate[path: ["spec", key]] = value }
        try await client.apply(kustomizations, namespace: "flux-system", object: gate, fieldManager: "test", force: true)
        var app: JSONValue = [
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": ["name": "app", "namespace": "flux-system"],
            "spec": ["interval": "1h", "path": "./app", "prune": true, "sourceRef": ["kind": "GitRepository", "name": "flux-system"]],
        ]
        if appDependsOnGate { app[path: ["spec", "dependsOn"]] = [["name": "gate"]] }
        try await client.apply(kustomizations, namespace: "flux-system", object: app, fieldManager: "test", force: true)
    }

    static func ready(_ object: JSONValue?) -> JSONValue? {
        object?[path: ["status", "conditions"]]?.arrayValue?.first { $0["type"] == "Ready" }
    }

    static func waitForReady(_ client: KubeClient, _ name: String, status: String, reason: String? = nil, timeout: Duration = .seconds(120)) async throws
        -> JSONValue?
    {
        try await client.waitFor(kustomizations, namespace: "flux-system", name: name, timeout: timeout, until: "Ready=\(status) \(reason ?? "")") { object in
            guard let ready = ready(object) else { return false }
            return ready["status"]?.stringValue == status && (reason == nil || ready["reason"]?.stringValue == reason)
        }
    }

    static func revision(_ client: KubeClient) async throws -> String? {
        try await client.get(gitRepositories, namespace: "flux-system", name: "flux-system")[path: ["status", "artifact", "revision"]]?.stringValue
    }

    @Test func dependentsWaitWhileTheGateJobRunsThenStart() async throws {
        // The Job runs until the test has seen it hold the app back, however slow the machine.
        let release = "/tmp/lhdr-flux-release-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: release) }
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "while [ ! -e \(release) ]; do sleep 0.2; done"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client)
            // While the Job runs: the gate is progressing, the app held back, nothing of it applied.
            try await client.waitFor(.jobs, namespace: "default", name: "gate", timeout: .seconds(120), until: "started") {
                $0?[path: ["status", "startTime"]] != nil
            }
            let held = try await Self.waitForReady(client, "app", status: "False", reason: "DependencyNotReady")
            #expect(Self.ready(held)?["message"] == "dependency 'flux-system/gate' is not ready")
            #expect(Self.ready(try await client.get(Self.kustomizations, namespace: "flux-system", name: "gate"))?["reason"] == "Progressing")
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "app") == nil)
            try Data().write(to: URL(fileURLWithPath: release))
            // The Job completes: the gate is Ready at the source's revision, then the app applies.
            let gate = try await Self.waitForReady(client, "gate", status: "True")
            let revision = try await Self.revision(client)
            #expect(gate?[path: ["status", "lastAppliedRevision"]]?.stringValue == revision)
            let job = try await client.get(.jobs, namespace: "default", name: "gate")
            #expect(job[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true)
            _ = try await Self.waitForReady(client, "app", status: "True")
            let app = try await client.get(.configMaps, namespace: "default", name: "app")
            #expect(app[path: ["metadata", "labels", "kustomize.toolkit.fluxcd.io/name"]] == "app")
            #expect(app[path: ["metadata", "managedFields"]]?.arrayValue?.contains { $0["manager"] == "kustomize-controller" } == true)
        }
    }

    @Test func aFailedJobKeepsTheGateShutAndTheAppOut() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "echo restore failed; exit 1"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client, gateTimeout: "5m")
            // Fail-fast: the wait ends when the Job fails, long before the 5 minute timeout.
            let gate = try await Self.waitForReady(client, "gate", status: "False", reason: "HealthCheckFailed", timeout: .seconds(180))
            let message = Self.ready(gate)?["message"]?.stringValue ?? ""
            #expect(message.contains("failed early due to stalled resources: [Job/default/gate status: 'Failed']"), "\(message)")
            #expect(gate?[path: ["status", "lastAppliedRevision"]] == nil)
            #expect(gate?[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Healthy" && $0["status"] == "False" } == true)
            // The app stays out, whatever happens next.
            try await Task.sleep(for: .seconds(1))
            #expect(Self.ready(try await client.get(Self.kustomizations, namespace: "flux-system", name: "app"))?["reason"] == "DependencyNotReady")
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "app") == nil)
        }
    }

    @Test func aHealthCheckThatRunsPastTheTimeoutFails() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "sleep 30"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client, gateTimeout: "2s")
            let gate = try await Self.waitForReady(client, "gate", status: "False", reason: "HealthCheckFailed", timeout: .seconds(120))
            #expect(Self.ready(gate)?["message"]?.stringValue?.contains("timeout waiting for: [Job/default/gate status: 'InProgress']") == true)
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "app") == nil)
        }
    }

    @Test func aJobDeletedByItsTTLIsCreatedAgainAndRunsAgain() async throws {
        try await withFlux { client, folder in
            // The original plan's TTL: Flux sees the Job missing on its next reconcile and makes it again.
            try Self.write(Self.gate(script: "echo ran", ttl: 1), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client)
            // Its uid as soon as it exists: after it completes, the TTL may already have deleted it.
            let created = try await client.waitFor(.jobs, namespace: "default", name: "gate", timeout: .seconds(120), until: "created") { $0 != nil }
            let first = created?[path: ["metadata", "uid"]]
            _ = try await Self.waitForReady(client, "gate", status: "True")
            try await client.waitFor(.jobs, namespace: "default", name: "gate", timeout: .seconds(120), until: "deleted by its TTL") { $0 == nil }
            // `flux reconcile kustomization gate` (what any interval or new commit also does).
            try await client.patch(
                Self.kustomizations, namespace: "flux-system", name: "gate", type: .merge,
                patch: ["metadata": ["annotations": ["reconcile.fluxcd.io/requestedAt": "2026-12-03T11:00:00Z"]]])
            let again = try await client.waitFor(.jobs, namespace: "default", name: "gate", timeout: .seconds(120), until: "created again and complete") {
                $0 != nil && $0?[path: ["metadata", "uid"]] != first
                    && $0?[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true
            }
            #expect(again?[path: ["metadata", "uid"]] != first)
            // The gate passes again once the new Job is complete, and records the request it handled.
            let gate = try await client.waitFor(
                Self.kustomizations, namespace: "flux-system", name: "gate", timeout: .seconds(120), until: "the request handled"
            ) {
                $0?[path: ["status", "lastHandledReconcileAt"]] == "2026-12-03T11:00:00Z"
            }
            #expect(Self.ready(gate)?["status"] == "True")
        }
    }

    @Test func anEditedJobIsRecreatedThroughTheForceAnnotationAndAgainGatesTheApp() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "sleep 1", marker: "first"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client)
            _ = try await Self.waitForReady(client, "app", status: "True")
            let first = try await client.get(.jobs, namespace: "default", name: "gate")[path: ["metadata", "uid"]]
            let firstRevision = try await Self.revision(client)
            // A new commit changes the Job's pod template (an edited restore config does the same
            // through the ConfigMap's hash): immutable, so Flux deletes and recreates it.
            try Self.write(Self.gate(script: "sleep 2", marker: "second"), to: "gate/job.yaml", in: folder)
            try await client.waitFor(Self.gitRepositories, namespace: "flux-system", name: "flux-system", timeout: .seconds(120), until: "at a new revision") {
                $0?[path: ["status", "artifact", "revision"]]?.stringValue != firstRevision
            }
            let newRevision = try await Self.revision(client)
            let recreated = try await client.waitFor(.jobs, namespace: "default", name: "gate", timeout: .seconds(120), until: "recreated") {
                $0 != nil && $0?[path: ["metadata", "uid"]] != first
            }
            let container = recreated?[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
            #expect(container?["env"]?.arrayValue?.first?["value"] == "second")
            // The app, on the same source, waits for the gate to pass at the new revision.
            let app = try await client.waitFor(
                Self.kustomizations, namespace: "flux-system", name: "app", timeout: .seconds(180), until: "applied at the new revision"
            ) {
                $0?[path: ["status", "lastAppliedRevision"]]?.stringValue == newRevision
            }
            let gate = try await client.get(Self.kustomizations, namespace: "flux-system", name: "gate")
            #expect(gate[path: ["status", "lastAppliedRevision"]]?.stringValue == newRevision)
            let job = try await client.get(.jobs, namespace: "default", name: "gate")
            #expect(job[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true)
            #expect(app != nil)
        }
    }

    @Test func withoutForceAnEditedJobIsAnImmutableFieldError() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "true", force: false, marker: "first"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await Self.applyKustomizations(client)
            _ = try await Self.waitForReady(client, "gate", status: "True")
            try Self.write(Self.gate(script: "true", force: false, marker: "second"), to: "gate/job.yaml", in: folder)
            let gate = try await Self.waitForReady(client, "gate", status: "False", reason: "ReconciliationFailed")
            let message = Self.ready(gate)?["message"]?.stringValue ?? ""
            #expect(message.contains("Job/default/gate dry-run failed (Invalid)") && message.contains("immutable"), "\(message)")
            // The app (same source) is held: the gate has not applied the new revision.
            _ = try await Self.waitForReady(client, "app", status: "False", reason: "DependencyNotReady")
        }
    }

    @Test func pruneRemovesWhatLeftTheSourceAndSuspendStopsEverything() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "true"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try Self.write(Self.app.replacingOccurrences(of: "name: app", with: "name: extra"), to: "app/extra.yaml", in: folder)
            try await Self.applyKustomizations(client)
            // Flux may first apply a revision from before the last file was written (it runs while
            // the test writes): wait until the app's inventory holds extra.
            _ = try await client.waitFor(Self.kustomizations, namespace: "flux-system", name: "app", timeout: .seconds(120), until: "holding extra") {
                $0?[path: ["status", "inventory", "entries"]]?.arrayValue?.contains { $0["id"] == "default_extra__ConfigMap" } == true
            }
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "extra") != nil)
            try FileManager.default.removeItem(at: folder.appendingPathComponent("app/extra.yaml"))
            do {
                try await client.waitFor(.configMaps, namespace: "default", name: "extra", timeout: .seconds(120), until: "pruned") { $0 == nil }
            } catch {
                // This wait has failed intermittently: say where Flux stood, for whoever finds out why.
                for name in ["gate", "app"] {
                    let object = try? await client.get(Self.kustomizations, namespace: "flux-system", name: name)
                    Issue.record("Kustomization \(name): \(object?["status"]?.jsonText ?? "none")")
                }
                let source = try? await client.get(Self.gitRepositories, namespace: "flux-system", name: "flux-system")
                Issue.record("GitRepository: \(source?["status"]?.jsonText ?? "none")")
                Issue.record("the Flux loop: \(await Self.currentFlux?.describeActivity() ?? "unknown")")
                throw error
            }
            // Suspended: a change in the source is not applied.
            try await client.patch(Self.kustomizations, namespace: "flux-system", name: "app", type: .merge, patch: ["spec": ["suspend": true]])
            try await Task.sleep(for: .milliseconds(300))
            try Self.write(Self.app.replacingOccurrences(of: "\"yes\"", with: "\"changed\""), to: "app/configmap.yaml", in: folder)
            try await Task.sleep(for: .seconds(2))
            #expect(try await client.get(.configMaps, namespace: "default", name: "app")[path: ["data", "started"]] == "yes")
        }
    }

    @Test func aMissingDependencyOrPathIsNamed() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.app, to: "app/configmap.yaml", in: folder)
            try await client.apply(
                Self.kustomizations, namespace: "flux-system",
                object: [
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": ["name": "app", "namespace": "flux-system"],
                    "spec": [
                        "interval": "1h", "path": "./app", "prune": true, "dependsOn": [["name": "longhorn"]],
                        "sourceRef": ["kind": "GitRepository", "name": "flux-system"],
                    ],
                ], fieldManager: "test", force: true)
            let app = try await Self.waitForReady(client, "app", status: "False", reason: "DependencyNotReady")
            #expect(Self.ready(app)?["message"] == "dependency 'flux-system/longhorn' is not ready")
            try await client.apply(
                Self.kustomizations, namespace: "flux-system",
                object: [
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": ["name": "longhorn", "namespace": "flux-system"],
                    "spec": ["interval": "1h", "path": "./not-there", "prune": true, "sourceRef": ["kind": "GitRepository", "name": "flux-system"]],
                ], fieldManager: "test", force: true)
            let longhorn = try await Self.waitForReady(client, "longhorn", status: "False", reason: "ArtifactFailed")
            #expect(Self.ready(longhorn)?["message"]?.stringValue?.contains("kustomization path not found") == true)
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "app") == nil)
        }
    }

    static let resourceSets = GroupVersionResource(group: "fluxcd.controlplane.io", version: "v1", resource: "resourcesets", namespaced: true)

    /// The shipped ResourceSet's template with the test's inputs: a gate Kustomization that waits
    /// for its Job and an app behind it, rendered and reconciled as flux-operator and
    /// kustomize-controller would.
    static func resourceSet(inputs: JSONValue, dependsOn: JSONValue = []) throws -> JSONValue {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("kubernetes/platform/flux/resourceset/platform-kustomizations.yaml"), encoding: .utf8)
        var set = try #require(try YAMLBody.documents(text).first)
        set[path: ["spec", "inputs"]] = inputs
        set[path: ["spec", "dependsOn"]] = dependsOn
        return set
    }

    @Test func aResourceSetRendersTheGateAndTheAppWaitsForItsJob() async throws {
        try await withFlux { client, folder in
            try Self.write(Self.gate(script: "sleep 2"), to: "gate/job.yaml", in: folder)
            try Self.write(Self.app + "\n  cluster: ${cluster_name}\n  literal: $${cluster_name}\n", to: "app/configmap.yaml", in: folder)
            try await client.apply(
                .configMaps, namespace: "flux-system",
                object: [
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cluster-config", "namespace": "flux-system"],
                    "data": ["cluster_name": "sim"],
                ],
                fieldManager: "test", force: true)
            let inputs: JSONValue = [
                ["name": "gate", "path": "gate", "wait": true, "timeout": "1m"],
                ["name": "app", "path": "app", "dependsOn": ["gate"], "wait": true],
            ]
            try await client.apply(Self.resourceSets, namespace: "flux-system", object: try Self.resourceSet(inputs: inputs), fieldManager: "test", force: true)
            // The operator renders both Kustomizations at once; kustomize-controller's ordering
            // holds the app back while the gate's Job runs.
            let held = try await Self.waitForReady(client, "app", status: "False", reason: "DependencyNotReady")
            #expect(Self.ready(held)?["message"] == "dependency 'flux-system/gate' is not ready")
            #expect(try await client.getIfPresent(.configMaps, namespace: "default", name: "app") == nil)
            let gate = try await client.get(Self.kustomizations, namespace: "flux-system", name: "gate")
            #expect(gate[path: ["metadata", "labels", "resourceset.fluxcd.controlplane.io/name"]] == "platform-kustomizations")
            #expect(gate[path: ["metadata", "managedFields"]]?.arrayValue?.contains { $0["manager"] == "flux-operator" } == true)
            _ = try await Self.waitForReady(client, "app", status: "True")
            let job = try await client.get(.jobs, namespace: "default", name: "gate")
            #expect(job[path: ["status", "conditions"]]?.arrayValue?.contains { $0["type"] == "Complete" && $0["status"] == "True" } == true)
            // postBuild: the cluster-config key is substituted, the escaped one left literal.
            let app = try await client.get(.configMaps, namespace: "default", name: "app")
            #expect(app[path: ["data", "cluster"]] == "sim")
            #expect(app[path: ["data", "literal"]] == "${cluster_name}")
            let set = try await client.get(Self.resourceSets, namespace: "flux-system", name: "platform-kustomizations")
            #expect(Self.ready(set)?["status"] == "True", "\(set[path: ["status"]]?.jsonText ?? "")")
            let inventory = set[path: ["status", "inventory", "entries"]]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(
                Set(inventory) == ["flux-system_gate_kustomize.toolkit.fluxcd.io_Kustomization", "flux-system_app_kustomize.toolkit.fluxcd.io_Kustomization"])
            // An input taken out of the ResourceSet: its Kustomization is garbage-collected.
            try await client.apply(
                Self.resourceSets, namespace: "flux-system", object: try Self.resourceSet(inputs: [inputs.arrayValue![0]]), fieldManager: "test", force: true)
            try await client.waitFor(Self.kustomizations, namespace: "flux-system", name: "app", timeout: .seconds(120), until: "garbage-collected") {
                $0 == nil
            }
            #expect(try await client.getIfPresent(Self.kustomizations, namespace: "flux-system", name: "gate") != nil)
        }
    }

    @Test func aResourceSetWaitsForWhatItDependsOn() async throws {
        try await withFlux { client, _ in
            let dependsOn: JSONValue = [["apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "name": "longhorn", "ready": true]]
            try await client.apply(
                Self.resourceSets, namespace: "flux-system", object: try Self.resourceSet(inputs: [["name": "gate", "path": "gate"]], dependsOn: dependsOn),
                fieldManager: "test", force: true)
            let set = try await client.waitFor(
                Self.resourceSets, namespace: "flux-system", name: "platform-kustomizations", timeout: .seconds(120), until: "DependencyNotReady"
            ) { Self.ready($0)?["reason"] == "DependencyNotReady" }
            #expect(Self.ready(set)?["message"] == "dependency Kustomization/flux-system/longhorn not found")
            #expect(try await client.getIfPresent(Self.kustomizations, namespace: "flux-system", name: "gate") == nil)
            // It exists but is not Ready: still held (ready: true).
            try await client.apply(
                Self.kustomizations, namespace: "flux-system",
                object: [
                    "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization", "metadata": ["name": "longhorn", "namespace": "flux-system"],
                    "spec": ["interval": "1h", "path": "./not-there", "prune": true, "sourceRef": ["kind": "GitRepository", "name": "flux-system"]],
                ], fieldManager: "test", force: true)
            _ = try await Self.waitForReady(client, "longhorn", status: "False", reason: "ArtifactFailed")
            let still = try await client.waitFor(
                Self.resourceSets, namespace: "flux-system", name: "platform-kustomizations", timeout: .seconds(120), until: "not ready"
            ) { Self.ready($0)?["message"] == "dependency Kustomization/flux-system/longhorn not ready" }
            #expect(Self.ready(still)?["status"] == "False")
            #expect(try await client.getIfPresent(Self.kustomizations, namespace: "flux-system", name: "gate") == nil)
        }
    }
}

/// The exercise's post-rebuild health gate against Kustomizations the simulated Flux reconciles.
/// Nested so that it runs after FluxSimulationTests, not beside it: each test runs a cluster with
/// real pods, and two such suites at once on two cores slowed unrelated tests past their timeouts.
extension FluxSimulationTests {
    @Suite(.serialized) struct FluxHealthGateTests {
        @Test func everythingReadyPassesAndNamesWhatItSaw() async throws {
            try await FluxSimulationTests().withFlux { client, folder in
                try FluxSimulationTests.write(FluxSimulationTests.gate(script: "true"), to: "gate/job.yaml", in: folder)
                try FluxSimulationTests.write(FluxSimulationTests.app, to: "app/configmap.yaml", in: folder)
                try await FluxSimulationTests.applyKustomizations(client)
                let summary = try await FluxHealthGate(allowNotReady: []).wait(client: client, timeout: .seconds(180)) { _ in }
                #expect(summary == "2 Kustomizations and 0 HelmReleases Ready")
            }
        }

        @Test func aKustomizationThatStaysNotReadyFailsNamingItAndWhy() async throws {
            try await FluxSimulationTests().withFlux { client, folder in
                try FluxSimulationTests.write(FluxSimulationTests.gate(script: "exit 1"), to: "gate/job.yaml", in: folder)
                try FluxSimulationTests.write(FluxSimulationTests.app, to: "app/configmap.yaml", in: folder)
                try await FluxSimulationTests.applyKustomizations(client)
                _ = try await FluxSimulationTests.waitForReady(client, "gate", status: "False", reason: "HealthCheckFailed")
                var gate = FluxHealthGate(allowNotReady: [])
                gate.pollInterval = .milliseconds(200)
                do {
                    _ = try await gate.wait(client: client, timeout: .seconds(2)) { _ in }
                    Issue.record("the gate passed with a failed Kustomization")
                } catch let error as DRError {
                    #expect(error.detail.contains("Kustomization flux-system/gate: HealthCheckFailed"), "\(error)")
                    #expect(error.detail.contains("Kustomization flux-system/app: DependencyNotReady: dependency 'flux-system/gate' is not ready"), "\(error)")
                    #expect(error.hint?.contains("flux.allowNotReady") == true)
                }
                // Allowed by name (or namespace/name): the gate passes and says what it let through.
                gate.allowNotReady = ["gate", "flux-system/app"]
                let summary = try await gate.wait(client: client, timeout: .seconds(2)) { _ in }
                #expect(summary.contains("not Ready but allowed: flux-system/app, flux-system/gate"), "\(summary)")
            }
        }

        @Test func aClusterWithoutFluxIsSaidSoNotPassedSilently() async throws {
            try await SimulatorHarness.withClient { client, _, _ in
                let lines = LinesSeen()
                let summary = try await FluxHealthGate(allowNotReady: []).wait(client: client, timeout: .seconds(5)) { lines.add($0) }
                #expect(summary == "not installed")
                #expect(lines.all.contains { $0.contains("Flux is not installed on the rebuilt cluster") })
            }
        }
    }

}

final class LinesSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
