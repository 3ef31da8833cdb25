import DRCore
import Foundation
import KubeClient
import KubeModels
import ProcessRunner
import Simulator

/// Flux in the simulated cluster (`sim serve --flux-source DIR`), working over the API as the real
/// controllers do:
///
/// - source-controller: the GitRepository `flux-system/flux-system` (and any GitRepository whose
///   URL is `file://FOLDER`) serves a local folder; every change to its files is a new revision
///   (``FolderSource``), stored as an artifact: a copy of the folder at that revision, which the
///   Kustomizations build from (as Flux builds from the artifact's tarball, never the live tree).
/// - kustomize-controller: `kustomize.toolkit.fluxcd.io/v1` Kustomizations are built with the real
///   kustomize (`kubectl kustomize`) and server-side applied as `kustomize-controller`, with
///   `dependsOn` (exists, observed generation, Ready, and for the same source the same
///   revision), `targetNamespace`, `prune` (inventory in status), `wait` / `healthChecks` with
///   Flux's Job reader and fail-fast (``FluxHealth``), `timeout`, `interval`, `retryInterval`,
///   `suspend`, `spec.force` and the `kustomize.toolkit.fluxcd.io/force: enabled` annotation
///   (delete and recreate on an immutable-field error), the `ssa: IfNotPresent|Ignore` and
///   `reconcile: disabled` annotations, `reconcile.fluxcd.io/requestedAt` (`flux reconcile`),
///   and the conditions and reasons Flux writes.
/// - helm-controller: a HelmRelease is marked Ready (its chart is not installed; the simulated
///   Longhorn stands for the one chart the bootstrap needs).
///
///   `postBuild` substitution (``PostBuildSubstitution``).
/// - flux-operator: `fluxcd.controlplane.io/v1` ResourceSets with static `inputs`, rendered from
///   `resourcesTemplate` or `resources` (``FluxTemplate``), `dependsOn` any object (exists, or
///   `ready: true`), `commonMetadata`, `wait`, garbage collection of what left the render
///   (``ResourceSetController``).
///
/// Not modelled: patches/images in the Flux object, decryption, impersonation, other source
/// kinds, events, ResourceSetInputProviders, ResourceSet `steps` and `readyExpr`.
public actor FluxSimulation {
    public struct Options: Sendable {
        public var sourceFolder: URL
        /// The kubectl whose `kustomize` builds the Kustomizations.
        public var kubectl: String
        /// How long a Kustomization waits before checking its dependencies again (Flux's
        /// `--requeue-dependency`, 30 s).
        public var requeueDependency: Duration = .seconds(30)
        /// How often a health check polls (Flux: 5 s).
        public var healthPollInterval: Duration = .seconds(5)
        /// How often the controllers look at the cluster.
        public var tick: Duration = .milliseconds(250)
        /// Where source artifacts are stored (a folder per revision); nil: a new temporary folder.
        public var artifactFolder: URL?

        public init(sourceFolder: URL, kubectl: String) {
            self.sourceFolder = sourceFolder
            self.kubectl = kubectl
        }
    }

    static let manager = "kustomize-controller"
    static let forceAnnotation = "kustomize.toolkit.fluxcd.io/force"
    static let ssaAnnotation = "kustomize.toolkit.fluxcd.io/ssa"
    static let reconcileAnnotation = "kustomize.toolkit.fluxcd.io/reconcile"
    static let pruneAnnotation = "kustomize.toolkit.fluxcd.io/prune"
    static let requestedAtAnnotation = "reconcile.fluxcd.io/requestedAt"

    let client: KubeClient
    let options: Options
    let clock = ContinuousClock()
    private var states: [String: KustomizationState] = [:]
    var resourceSetStates: [String: ResourceSetState] = [:]
    private var discovered: [String: GroupVersionResource] = [:]
    private var sourceHashed: [String: (at: ContinuousClock.Instant, revision: String)] = [:]
    /// What the controllers' loop is doing and since when: a loop that stopped moving says where.
    private var activity = (what: "not started", since: ContinuousClock.now)

    private func doing(_ what: String) { activity = (what, clock.now) }

    /// "kustomization flux-system/app: apply (for 2m3s); passes so far: 412", for a test's failure message.
    public func describeActivity() -> String {
        "\(activity.what) (for \(DurationText.format(activity.since.duration(to: clock.now)))); passes so far: \(passes); sources hashed: \(sourceHashed.mapValues(\.revision)); last source problem: \(sourceProblem ?? "none")"
    }

    private var passes = 0
    /// Why the source-controller last could not look at the sources, for a test's failure message.
    private var sourceProblem: String?

    /// Where source artifacts are kept (one folder per revision), removed with the simulation.
    let artifactRoot: URL

    public init(client: KubeClient, options: Options) {
        self.client = client
        self.options = options
        artifactRoot =
            options.artifactFolder ?? FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-flux-artifacts-\(UUID().uuidString)")
    }

    deinit {
        try? FileManager.default.removeItem(at: artifactRoot)
    }

    /// One object a Kustomization applied or checks.
    struct ObjectRef: Hashable, Sendable {
        var apiVersion: String
        var kind: String
        var namespace: String?
        var name: String

        var group: String { apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : "" }
        var version: String { String(apiVersion.split(separator: "/").last ?? "v1") }
        /// Flux's inventory id: `<namespace>_<name>_<group>_<kind>`.
        var inventoryID: String { "\(namespace ?? "")_\(name)_\(group)_\(kind)" }
        var display: String { namespace.map { "\(kind)/\($0)/\(name)" } ?? "\(kind)/\(name)" }
    }

    struct Wait {
        var revision: String
        var objects: [ObjectRef]
        var inventory: [ObjectRef]
        var started: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant
        var nextPoll: ContinuousClock.Instant
        var trigger: String
    }

    struct KustomizationState {
        var trigger = ""
        var nextRun: ContinuousClock.Instant?
        var wait: Wait?
    }

    /// Failure of one reconcile: Flux's reason and message.
    struct Failure: Error {
        var reason: String
        var message: String
    }

    // MARK: - Installing

    /// The CRDs, the flux-system namespace and the GitRepository of the source folder.
    public func install() async throws {
        for definition in FluxCRDs.all where try await client.getIfPresent(.customResourceDefinitions, name: "\(definition.plural).\(definition.group)") == nil
        {
            try await client.create(.customResourceDefinitions, object: FluxCRDs.crd(definition))
        }
        let deadline = clock.now + .seconds(10)
        for definition in FluxCRDs.all {
            while try await client.resource(apiVersion: "\(definition.group)/\(definition.version)", kind: definition.kind) == nil {
                guard clock.now < deadline else { throw Failure(reason: "InstallFailed", message: "the \(definition.kind) CRD is not served after 10 s") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        if try await client.getIfPresent(.namespaces, name: "flux-system") == nil {
            try await client.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "flux-system"]])
        }
        try await client.apply(
            FluxCRDs.resource(FluxCRDs.gitRepository), namespace: "flux-system",
            object: [
                "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": ["name": "flux-system", "namespace": "flux-system"],
                "spec": [
                    "url": .string("file://" + options.sourceFolder.standardizedFileURL.path), "interval": "1m",
                    "ref": ["branch": "main"],
                ],
            ], fieldManager: "flux", force: true)
    }

    /// Runs the controllers until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await pass()
            try? await Task.sleep(for: options.tick)
        }
    }

    /// One pass of every controller.
    func pass() async {
        passes += 1
        doing("source-controller")
        await reconcileSources()
        doing("helm-controller")
        await reconcileHelmReleases()
        doing("ResourceSet controller")
        await reconcileResourceSets()
        doing("kustomize-controller")
        await reconcileKustomizations()
        doing("idle between passes")
    }

    // MARK: - source-controller

    private func reconcileSources() async {
        let repositories: [JSONValue]
        do {
            repositories = try await client.list(FluxCRDs.resource(FluxCRDs.gitRepository)).items
        } catch {
            sourceProblem = "listing GitRepositories: \(error)"
            return
        }
        for repository in repositories {
            guard let folder = Self.folder(of: repository) else { continue }
            let key = folder.path
            let now = clock.now
            // Hashed less than a second ago: nothing new to learn yet.
            if let cached = sourceHashed[key], now - cached.at < .seconds(1) { continue }
            let live: String
            do {
                doing("source-controller: hashing \(folder.path)")
                live = try FolderSource(folder: folder).revision()
            } catch {
                await patchStatus(
                    FluxCRDs.resource(FluxCRDs.gitRepository), repository,
                    conditions: [("Ready", "False", "StorageOperationFailed", "cannot read \(folder.path): \(error)")], extra: [:])
                continue
            }
            // A folder being written is no commit: a revision is what the folder held for a
            // whole second (two hashes in a row), never the half of a change.
            let settled = sourceHashed[key]?.revision == live
            sourceHashed[key] = (now, live)
            guard settled else { continue }
            let generation = repository[path: ["metadata", "generation"]] ?? 1
            if repository[path: ["status", "artifact", "revision"]]?.stringValue == live,
                repository[path: ["status", "observedGeneration"]] == generation
            {
                continue
            }
            // The artifact: a copy, hashed itself, so a revision always names exactly what the
            // builds read.
            let revision: String
            let artifact: URL
            do {
                doing("source-controller: storing an artifact of \(folder.path)")
                (revision, artifact) = try storeArtifact(of: folder)
            } catch {
                await patchStatus(
                    FluxCRDs.resource(FluxCRDs.gitRepository), repository,
                    conditions: [("Ready", "False", "StorageOperationFailed", "cannot store an artifact of \(folder.path): \(error)")], extra: [:])
                continue
            }
            // Changed while it was copied: the next look settles it.
            guard revision == live else { continue }
            let digest = revision.split(separator: "@").last.map(String.init) ?? revision
            doing("source-controller: storing revision \(revision)")
            await patchStatus(
                FluxCRDs.resource(FluxCRDs.gitRepository), repository,
                conditions: [
                    ("Ready", "True", "Succeeded", "stored artifact for revision '\(revision)'"),
                    ("ArtifactInStorage", "True", "Succeeded", "stored artifact for revision '\(revision)'"),
                ],
                extra: [
                    "observedGeneration": generation,
                    "artifact": [
                        "revision": .string(revision), "digest": .string(digest), "path": .string(artifact.path), "url": .string("file://" + artifact.path),
                        "lastUpdateTime": .string(Self.timestamp()),
                    ],
                ])
        }
    }

    /// Copies `folder` (without `.git`) into the artifact store, named after its revision.
    private func storeArtifact(of folder: URL) throws -> (revision: String, path: URL) {
        let files = FileManager.default
        try files.createDirectory(at: artifactRoot, withIntermediateDirectories: true)
        let staging = artifactRoot.appendingPathComponent("staging-\(UUID().uuidString)")
        try files.copyItem(at: folder, to: staging)
        try? files.removeItem(at: staging.appendingPathComponent(".git"))
        let revision = try FolderSource(folder: staging).revision()
        let stored = artifactRoot.appendingPathComponent(String(revision.split(separator: ":").last ?? "artifact"))
        if files.fileExists(atPath: stored.path) {
            try files.removeItem(at: staging)
        } else {
            try files.moveItem(at: staging, to: stored)
        }
        return (revision, stored)
    }

    /// The folder of the artifact a GitRepository's status names.
    static func artifactFolder(of repository: JSONValue) -> URL? {
        repository[path: ["status", "artifact", "path"]]?.stringValue.map { URL(fileURLWithPath: $0) }
    }

    /// The folder a `file://` GitRepository serves.
    static func folder(of repository: JSONValue) -> URL? {
        guard let url = repository[path: ["spec", "url"]]?.stringValue, url.hasPrefix("file://") else { return nil }
        return URL(fileURLWithPath: String(url.dropFirst("file://".count)))
    }

    // MARK: - helm-controller

    private func reconcileHelmReleases() async {
        guard let releases = try? await client.list(FluxCRDs.resource(FluxCRDs.helmRelease)).items else { return }
        for release in releases where release[path: ["spec", "suspend"]]?.boolValue != true {
            let generation = release[path: ["metadata", "generation"]] ?? 1
            let ready = FluxHealth.condition(release["status"] ?? [:], "Ready")
            if ready?["status"] == "True", release[path: ["status", "observedGeneration"]] == generation { continue }
            let name = release[path: ["metadata", "name"]]?.stringValue ?? ""
            let namespace = release[path: ["metadata", "namespace"]]?.stringValue ?? ""
            let chart = release[path: ["spec", "chart", "spec", "chart"]]?.stringValue ?? release[path: ["spec", "chartRef", "name"]]?.stringValue ?? "chart"
            let version = release[path: ["spec", "chart", "spec", "version"]]?.stringValue ?? "*"
            let message =
                "Helm install succeeded for release \(namespace)/\(name).v1 with chart \(chart)@\(version) (simulated: no chart objects are installed)"
            await patchStatus(
                FluxCRDs.resource(FluxCRDs.helmRelease), release,
                conditions: [("Ready", "True", "InstallSucceeded", message), ("Released", "True", "InstallSucceeded", message)],
                extra: ["observedGeneration": generation, "lastAttemptedRevision": .string(version)])
        }
    }

    // MARK: - kustomize-controller

    private func reconcileKustomizations() async {
        let resource = FluxCRDs.resource(FluxCRDs.kustomization)
        guard let kustomizations = try? await client.list(resource).items else { return }
        var present = Set<String>()
        for kustomization in kustomizations {
            let key = Self.key(kustomization)
            present.insert(key)
            if kustomization[path: ["spec", "suspend"]]?.boolValue == true { continue }
            if kustomization[path: ["metadata", "deletionTimestamp"]] != nil { continue }
            var state = states[key] ?? KustomizationState()
            if let wait = state.wait {
                if clock.now >= wait.nextPoll {
                    doing("kustomization \(key): health poll")
                    await poll(kustomization, wait: wait, state: &state)
                }
                states[key] = state
                continue
            }
            let revision = await sourceRevision(of: kustomization)
            let trigger = [
                kustomization[path: ["metadata", "generation"]]?.intValue.map(String.init) ?? "",
                kustomization[path: ["metadata", "annotations", Self.requestedAtAnnotation]]?.stringValue ?? "", revision ?? "",
            ].joined(separator: "|")
            let due = trigger != state.trigger || state.nextRun.map { clock.now >= $0 } ?? true
            guard due else { continue }
            state.trigger = trigger
            doing("kustomization \(key): reconcile at \(revision ?? "no revision")")
            await reconcile(kustomization, revision: revision, state: &state)
            states[key] = state
        }
        for key in states.keys where !present.contains(key) { states[key] = nil }
    }

    static func key(_ object: JSONValue) -> String {
        "\(object[path: ["metadata", "namespace"]]?.stringValue ?? "")/\(object[path: ["metadata", "name"]]?.stringValue ?? "")"
    }

    /// The revision of the Kustomization's source artifact, nil when there is none yet.
    private func sourceRevision(of kustomization: JSONValue) async -> String? {
        guard let source = sourceObject(of: kustomization) else { return nil }
        let repository = try? await client.getIfPresent(FluxCRDs.resource(FluxCRDs.gitRepository), namespace: source.namespace, name: source.name)
        return repository?[path: ["status", "artifact", "revision"]]?.stringValue
    }

    private func sourceObject(of kustomization: JSONValue) -> (kind: String, namespace: String, name: String)? {
        guard let reference = kustomization[path: ["spec", "sourceRef"]], let name = reference["name"]?.stringValue else { return nil }
        let namespace = reference["namespace"]?.stringValue ?? kustomization[path: ["metadata", "namespace"]]?.stringValue ?? "flux-system"
        return (reference["kind"]?.stringValue ?? "GitRepository", namespace, name)
    }

    private func duration(_ kustomization: JSONValue, _ field: String, default fallback: Duration) -> Duration {
        kustomization[path: ["spec", field]]?.stringValue.flatMap(DurationText.parse) ?? fallback
    }

    private func reconcile(_ kustomization: JSONValue, revision: String?, state: inout KustomizationState) async {
        let interval = duration(kustomization, "interval", default: .seconds(600))
        let retry = duration(kustomization, "retryInterval", default: interval)
        guard let source = sourceObject(of: kustomization), source.kind == "GitRepository" else {
            await finish(
                kustomization, failure: Failure(reason: "ArtifactFailed", message: "source kind is not supported by the simulated Flux (GitRepository only)"),
                revision: nil, inventory: nil)
            state.nextRun = clock.now + retry
            return
        }
        guard let revision,
            let repository = try? await client.getIfPresent(FluxCRDs.resource(FluxCRDs.gitRepository), namespace: source.namespace, name: source.name),
            repository[path: ["status", "artifact", "revision"]]?.stringValue == revision,
            let folder = Self.artifactFolder(of: repository)
        else {
            await finish(
                kustomization, failure: Failure(reason: "ArtifactFailed", message: "Source artifact not found, retrying in 30s"), revision: nil, inventory: nil)
            state.nextRun = clock.now + .seconds(30)
            return
        }
        if let blocked = await unreadyDependency(of: kustomization, source: source, revision: revision) {
            await finish(
                kustomization, failure: Failure(reason: "DependencyNotReady", message: "dependency '\(blocked)' is not ready"), revision: nil, inventory: nil,
                keepsGeneration: true)
            state.nextRun = clock.now + options.requeueDependency
            return
        }
        do {
            let key = Self.key(kustomization)
            doing("kustomization \(key): build")
            var objects = try await build(kustomization, folder: folder)
            do {
                if let substitution = try await PostBuildSubstitution.variables(of: kustomization, client: client) {
                    objects = try substitution.apply(to: objects)
                }
            } catch {
                throw Failure(reason: "BuildFailed", message: error.message)
            }
            doing("kustomization \(key): apply")
            let (inventory, waitFor) = try await apply(objects, by: .kustomization(kustomization))
            doing("kustomization \(key): prune and status")
            if kustomization[path: ["spec", "prune"]]?.boolValue == true {
                try await prune(previous: kustomization[path: ["status", "inventory", "entries"]], keeping: Set(inventory.map(\.inventoryID)))
            }
            let checks = kustomization[path: ["spec", "wait"]]?.boolValue == true ? waitFor : Self.healthChecks(of: kustomization)
            if checks.isEmpty {
                await finish(kustomization, revision: revision, inventory: inventory, healthChecked: false)
                state.nextRun = clock.now + interval
                return
            }
            let now = clock.now
            state.wait = Wait(
                revision: revision, objects: checks, inventory: inventory, started: now,
                deadline: now + duration(kustomization, "timeout", default: interval), nextPoll: now, trigger: state.trigger)
            await progressing(kustomization, revision: revision)
        } catch let failure as Failure {
            await finish(kustomization, failure: failure, revision: revision, inventory: nil)
            state.nextRun = clock.now + retry
        } catch {
            await finish(kustomization, failure: Failure(reason: "ReconciliationFailed", message: "\(error)"), revision: revision, inventory: nil)
            state.nextRun = clock.now + retry
        }
    }

    /// The first dependency that is not ready, as `namespace/name`, or nil.
    private func unreadyDependency(of kustomization: JSONValue, source: (kind: String, namespace: String, name: String), revision: String) async -> String? {
        let namespace = kustomization[path: ["metadata", "namespace"]]?.stringValue ?? "flux-system"
        for dependency in kustomization[path: ["spec", "dependsOn"]]?.arrayValue ?? [] {
            guard let name = dependency["name"]?.stringValue else { continue }
            let dependencyNamespace = dependency["namespace"]?.stringValue ?? namespace
            let label = "\(dependencyNamespace)/\(name)"
            guard let other = try? await client.getIfPresent(FluxCRDs.resource(FluxCRDs.kustomization), namespace: dependencyNamespace, name: name) else {
                return label
            }
            let status = other["status"] ?? [:]
            guard status["observedGeneration"] == other[path: ["metadata", "generation"]], FluxHealth.condition(status, "Ready")?["status"] == "True" else {
                return label
            }
            if let otherSource = sourceObject(of: other), otherSource.kind == source.kind, otherSource.namespace == source.namespace,
                otherSource.name == source.name,
                status["lastAppliedRevision"]?.stringValue != revision
            {
                return label
            }
        }
        return nil
    }

    static func healthChecks(of kustomization: JSONValue) -> [ObjectRef] {
        (kustomization[path: ["spec", "healthChecks"]]?.arrayValue ?? []).compactMap { check in
            guard let kind = check["kind"]?.stringValue, let name = check["name"]?.stringValue else { return nil }
            return ObjectRef(apiVersion: check["apiVersion"]?.stringValue ?? "v1", kind: kind, namespace: check["namespace"]?.stringValue, name: name)
        }
    }

    // MARK: Build and apply

    /// `kubectl kustomize` of the Kustomization's path; a folder without a kustomization file is
    /// read as all its YAML files, as Flux generates one.
    private func build(_ kustomization: JSONValue, folder: URL) async throws -> [JSONValue] {
        var path = kustomization[path: ["spec", "path"]]?.stringValue ?? "./"
        while path.hasPrefix("./") { path.removeFirst(2) }
        let directory = path.isEmpty ? folder : folder.appendingPathComponent(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Failure(reason: "ArtifactFailed", message: "kustomization path not found: stat \(directory.path): no such file or directory")
        }
        let hasKustomization = ["kustomization.yaml", "kustomization.yml", "Kustomization"].contains {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
        var text = ""
        if hasKustomization {
            let outcome: ProcessOutcome
            do {
                outcome = try await ProcessRunner.run(
                    ProcessRequest(executable: options.kubectl, arguments: ["kustomize", directory.path], timeout: .seconds(60), grace: .seconds(1)))
            } catch {
                throw Failure(reason: "BuildFailed", message: "kustomize build failed: \(error)")
            }
            guard outcome.succeeded else {
                throw Failure(
                    reason: "BuildFailed",
                    message: "kustomize build failed: \(String(decoding: outcome.standardError, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
            text = String(decoding: outcome.standardOutput, as: UTF8.self)
        } else {
            let files = (FileManager.default.enumerator(atPath: directory.path)?.allObjects as? [String] ?? [])
                .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            for file in files { text += "\n---\n" + ((try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? "") }
        }
        do {
            return try YAMLBody.documents(text).filter { $0["kind"] != nil }
        } catch {
            throw Failure(reason: "BuildFailed", message: "the built manifests are not valid YAML: \(error)")
        }
    }

    func resource(for apiVersion: String, kind: String) async throws -> GroupVersionResource? {
        let key = "\(apiVersion)|\(kind)"
        if let known = discovered[key] { return known }
        let found = try await client.resource(apiVersion: apiVersion, kind: kind)
        if let found { discovered[key] = found }
        return found
    }

    /// Who applies a set of objects: the labels it puts on them, its field manager, and what lets
    /// it recreate an object whose immutable fields changed.
    struct Applier {
        var manager: String
        var labels: [String: String]
        var targetNamespace: String?
        var forceAll: Bool
        var forceAnnotation: String

        static func kustomization(_ kustomization: JSONValue) -> Applier {
            Applier(
                manager: FluxSimulation.manager,
                labels: [
                    "kustomize.toolkit.fluxcd.io/name": kustomization[path: ["metadata", "name"]]?.stringValue ?? "",
                    "kustomize.toolkit.fluxcd.io/namespace": kustomization[path: ["metadata", "namespace"]]?.stringValue ?? "",
                ], targetNamespace: kustomization[path: ["spec", "targetNamespace"]]?.stringValue,
                forceAll: kustomization[path: ["spec", "force"]]?.boolValue == true, forceAnnotation: FluxSimulation.forceAnnotation)
        }
    }

    /// Server-side applies every object (CRDs and Namespaces first); returns the inventory and the
    /// objects a `wait` checks (not those whose apply was skipped).
    func apply(_ objects: [JSONValue], by applier: Applier) async throws -> ([ObjectRef], [ObjectRef]) {
        let targetNamespace = applier.targetNamespace
        let forceAll = applier.forceAll
        func rank(_ object: JSONValue) -> Int {
            switch object["kind"]?.stringValue {
            case "CustomResourceDefinition": 0
            case "Namespace": 1
            default: 2
            }
        }
        var inventory: [ObjectRef] = []
        var waitFor: [ObjectRef] = []
        for var object in objects.enumerated().sorted(by: { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }).map(\.element) {
            let apiVersion = object["apiVersion"]?.stringValue ?? "v1"
            let kind = object["kind"]?.stringValue ?? ""
            let objectName = object[path: ["metadata", "name"]]?.stringValue ?? ""
            let annotations = object[path: ["metadata", "annotations"]]?.objectValue ?? [:]
            if annotations[Self.reconcileAnnotation]?.stringValue == "disabled" || annotations[Self.ssaAnnotation]?.stringValue == "Ignore" { continue }
            guard let resource = try await resource(for: apiVersion, kind: kind) else {
                throw Failure(
                    reason: "ReconciliationFailed",
                    message: "\(kind)/\(objectName) dry-run failed: no matches for kind \"\(kind)\" in version \"\(apiVersion)\"")
            }
            var objectNamespace: String?
            if resource.namespaced {
                objectNamespace = targetNamespace ?? object[path: ["metadata", "namespace"]]?.stringValue ?? "default"
                object[path: ["metadata", "namespace"]] = .string(objectNamespace ?? "default")
            }
            for (key, value) in applier.labels { object[path: ["metadata", "labels", key]] = .string(value) }
            let reference = ObjectRef(apiVersion: apiVersion, kind: kind, namespace: objectNamespace, name: objectName)
            inventory.append(reference)
            let existing = try await client.getIfPresent(resource, namespace: objectNamespace, name: objectName)
            if annotations[Self.ssaAnnotation]?.stringValue == "IfNotPresent", existing != nil { continue }
            do {
                try await client.apply(resource, namespace: objectNamespace, object: object, fieldManager: applier.manager, force: true)
            } catch let error where error.code == .invalid && error.detail.contains("immutable") {
                let forced =
                    forceAll || annotations[applier.forceAnnotation]?.stringValue == "enabled"
                    || existing?[path: ["metadata", "annotations", applier.forceAnnotation]]?.stringValue == "enabled"
                guard forced else {
                    throw Failure(reason: "ReconciliationFailed", message: "\(reference.display) dry-run failed (Invalid): \(error.detail)")
                }
                // Recreate: background propagation, so a Job's pods go with it.
                try await client.delete(resource, namespace: objectNamespace, name: objectName, propagation: .background, waitUntilGone: .seconds(30))
                try await client.apply(resource, namespace: objectNamespace, object: object, fieldManager: applier.manager, force: true)
            } catch {
                throw Failure(reason: "ReconciliationFailed", message: "\(reference.display) apply failed: \(error.detail)")
            }
            waitFor.append(reference)
        }
        return (inventory, waitFor)
    }

    /// Deletes what the last applied inventory had and this one has not (`prune: true`).
    func prune(previous entries: JSONValue?, keeping: Set<String>) async throws {
        for entry in entries?.arrayValue ?? [] {
            guard let id = entry["id"]?.stringValue, !keeping.contains(id) else { continue }
            let parts = id.split(separator: "_", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 4 else { continue }
            let version = entry["v"]?.stringValue ?? "v1"
            let apiVersion = parts[2].isEmpty ? version : "\(parts[2])/\(version)"
            guard let resource = try await resource(for: apiVersion, kind: parts[3]) else { continue }
            let namespace = parts[0].isEmpty ? nil : parts[0]
            guard let live = try await client.getIfPresent(resource, namespace: namespace, name: parts[1]) else { continue }
            if live[path: ["metadata", "annotations", Self.pruneAnnotation]]?.stringValue == "disabled" { continue }
            do {
                try await client.delete(resource, namespace: namespace, name: parts[1], propagation: .background)
            } catch {
                throw Failure(reason: "PruneFailed", message: "\(parts[3])/\(parts[1]) prune failed: \(error.detail)")
            }
        }
    }

    // MARK: Health

    private func poll(_ kustomization: JSONValue, wait: Wait, state: inout KustomizationState) async {
        let interval = duration(kustomization, "interval", default: .seconds(600))
        let retry = duration(kustomization, "retryInterval", default: interval)
        let (failed, pending) = await health(of: wait.objects)
        let elapsed = Self.seconds(clock.now - wait.started)
        if !failed.isEmpty || (!pending.isEmpty && clock.now >= wait.deadline) {
            let detail =
                failed.isEmpty
                ? "timeout waiting for: [\(pending.joined(separator: ", "))]" : "failed early due to stalled resources: [\(failed.joined(separator: ", "))]"
            await finish(
                kustomization, failure: Failure(reason: "HealthCheckFailed", message: "health check failed after \(elapsed): \(detail)"),
                revision: wait.revision, inventory: wait.inventory, healthChecked: true)
            state.wait = nil
            state.nextRun = clock.now + retry
            return
        }
        if pending.isEmpty {
            await finish(
                kustomization, revision: wait.revision, inventory: wait.inventory, healthChecked: true, healthMessage: "Health check passed in \(elapsed)")
            state.wait = nil
            state.nextRun = clock.now + interval
            return
        }
        state.wait?.nextPoll = clock.now + options.healthPollInterval
    }

    /// Flux's health check of `objects` (the same reader for Kustomizations and ResourceSets):
    /// what failed and what is still in progress, as Flux words them.
    func health(of objects: [ObjectRef]) async -> (failed: [String], pending: [String]) {
        var failed: [String] = []
        var pending: [String] = []
        for object in objects {
            var live: JSONValue?
            if let resource = try? await resource(for: object.apiVersion, kind: object.kind) {
                live = try? await client.getIfPresent(resource, namespace: resource.namespaced ? object.namespace : nil, name: object.name)
            }
            switch FluxHealth.of(live, kind: object.kind) {
            case .current: break
            case .failed: failed.append("\(object.display) status: 'Failed'")
            case .inProgress: pending.append("\(object.display) status: 'InProgress'")
            }
        }
        return (failed, pending)
    }

    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.3fs", Double(seconds) + Double(attoseconds) / 1e18)
    }

    // MARK: Status

    private func progressing(_ kustomization: JSONValue, revision: String) async {
        await patchStatus(
            FluxCRDs.resource(FluxCRDs.kustomization), kustomization,
            conditions: [
                ("Ready", "Unknown", "Progressing", "Reconciliation in progress"),
                (
                    "Reconciling", "True", "Progressing",
                    "Running health checks for revision \(revision) with a timeout of \(kustomization[path: ["spec", "timeout"]]?.stringValue ?? kustomization[path: ["spec", "interval"]]?.stringValue ?? "10m")"
                ),
            ], extra: ["lastAttemptedRevision": .string(revision)])
    }

    private func finish(
        _ kustomization: JSONValue, failure: Failure? = nil, revision: String?, inventory: [ObjectRef]?, healthChecked: Bool = false,
        healthMessage: String? = nil, keepsGeneration: Bool = false
    ) async {
        var extra: [String: JSONValue] = [:]
        if !keepsGeneration { extra["observedGeneration"] = kustomization[path: ["metadata", "generation"]] ?? 1 }
        if let requested = kustomization[path: ["metadata", "annotations", Self.requestedAtAnnotation]]?.stringValue {
            extra["lastHandledReconcileAt"] = .string(requested)
        }
        if let revision { extra["lastAttemptedRevision"] = .string(revision) }
        if let inventory {
            extra["inventory"] = ["entries": .array(inventory.map { ["id": .string($0.inventoryID), "v": .string($0.version)] })]
        }
        var conditions: [(String, String, String, String)]
        if let failure {
            conditions = [("Ready", "False", failure.reason, failure.message)]
            if healthChecked { conditions.append(("Healthy", "False", failure.reason, failure.message)) }
        } else {
            let revision = revision ?? ""
            extra["lastAppliedRevision"] = .string(revision)
            conditions = [("Ready", "True", "ReconciliationSucceeded", "Applied revision: \(revision)")]
            if healthChecked { conditions.append(("Healthy", "True", "Succeeded", healthMessage ?? "Health check passed")) }
        }
        await patchStatus(FluxCRDs.resource(FluxCRDs.kustomization), kustomization, conditions: conditions, extra: extra)
    }

    /// Writes `status` (merge patch of the status subresource): the given conditions, keeping a
    /// condition's lastTransitionTime when its status did not change, plus `extra` fields.
    func patchStatus(
        _ resource: GroupVersionResource, _ object: JSONValue, conditions: [(type: String, status: String, reason: String, message: String)],
        extra: [String: JSONValue]
    ) async {
        guard let name = object[path: ["metadata", "name"]]?.stringValue else { return }
        let namespace = object[path: ["metadata", "namespace"]]?.stringValue
        // Read again: the object in hand may be older than the last status written.
        let current = (try? await client.getIfPresent(resource, namespace: namespace, name: name)) ?? object
        let old = current[path: ["status", "conditions"]]?.arrayValue ?? []
        let now = Self.timestamp()
        let generation = current[path: ["metadata", "generation"]] ?? 1
        let written: [JSONValue] = conditions.map { condition in
            let previous = old.first { $0["type"]?.stringValue == condition.type }
            let since = previous?["status"]?.stringValue == condition.status ? previous?["lastTransitionTime"] ?? .string(now) : .string(now)
            return [
                "type": .string(condition.type), "status": .string(condition.status), "reason": .string(condition.reason),
                "message": .string(condition.message), "lastTransitionTime": since, "observedGeneration": generation,
            ]
        }
        var status: [String: JSONValue] = extra
        status["conditions"] = .array(written)
        _ = try? await client.patch(
            resource, namespace: namespace, name: name, type: .merge, patch: ["status": .object(status)], subresource: "status", fieldManager: Self.manager)
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
