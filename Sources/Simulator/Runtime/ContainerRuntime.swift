import Foundation
import KubeModels
import Synchronization

/// One started container: its state as the kubelet reports it, and its log.
public final class ContainerInstance: Sendable {
    public enum State: Sendable, Equatable {
        /// Asked of the container engine, not yet running (the kubelet's ContainerCreating): a
        /// podman container between `podman run` and podman reporting it running.
        case creating
        case running(startedAt: Date)
        case terminated(exitCode: Int32, startedAt: Date, finishedAt: Date)
        /// The container was not started: the kubelet's waiting reason (RunContainerError when the
        /// command could not start, e.g. no `unshare`; CreateContainerConfigError when the spec
        /// forbids it) and why.
        case failedToStart(reason: String, message: String)
    }

    public let name: String
    public let log: ContainerLog
    /// As containerStatuses report them: `podman://NAME` and the image's id for a podman
    /// container, `sim://UID/NAME` and "" for a host process.
    public let containerID: String
    public let imageID: String
    /// Said about the container in a pod event when it starts (how it runs, when that differs
    /// from what was asked).
    public let note: String?
    private let current: Mutex<State>
    private let processBox = Mutex<ContainerProcess?>(nil)
    private let changes: ChangeCounter

    init(
        name: String, log: ContainerLog, state: State, changes: ChangeCounter, containerID: String, imageID: String = "", note: String? = nil
    ) {
        self.name = name
        self.log = log
        self.containerID = containerID
        self.imageID = imageID
        self.note = note
        self.current = Mutex(state)
        self.changes = changes
    }

    var process: ContainerProcess? { processBox.withLock { $0 } }

    func attach(_ process: ContainerProcess) {
        processBox.withLock { $0 = process }
    }

    func failed(_ message: String, reason: String = "RunContainerError") {
        current.withLock { $0 = .failedToStart(reason: reason, message: message) }
        changes.bump()
        log.append(Data("\(message)\n".utf8))
        log.finish()
    }

    public var state: State { current.withLock { $0 } }

    /// The engine reports the container running.
    func started(at time: Date) {
        let changed = current.withLock { state in
            guard case .creating = state else { return false }
            state = .running(startedAt: time)
            return true
        }
        if changed { changes.bump() }
    }

    func exited(_ code: Int32, now: Date) {
        current.withLock { state in
            switch state {
            case .running(let started): state = .terminated(exitCode: code, startedAt: started, finishedAt: now)
            case .creating: state = .terminated(exitCode: code, startedAt: now, finishedAt: now)
            case .terminated, .failedToStart: break
            }
        }
        log.finish()
        changes.bump()
    }
}

/// The simulated container runtime behind the kubelet stand-in: runs each container's command as a
/// real process (see ``ContainerProcess``), keeps its log, and serves `logs` and `exec`.
///
/// Commands that only wait forever (no command at all, since images are not run, or `sleep infinity`)
/// are modelled as idle running containers without a process: they behave the same for every client
/// and cost nothing.
public actor ContainerRuntime: PodRuntime {
    public let data: VolumeDataStore
    let store: ClusterStore
    /// Where pods find the API server and their service-account tokens.
    public let access: ClusterAccess
    /// Host folders standing in for images: a container whose image (any tag) is a key finds its
    /// commands in that folder first, as if the image contained them.
    private var imageBins: [String: String] = [:]

    /// Runs containers whose image is in podman's local storage as podman containers.
    private var engine: PodmanEngine?
    /// The podman container of each pod's containers, by pod uid and container name.
    private var podmanNames: [String: [String: String]] = [:]

    /// `sim serve --container-runtime podman`.
    public func setEngine(_ engine: PodmanEngine?) {
        self.engine = engine
    }

    /// Makes containers of `image` find their commands in `folder` (`sim serve --image-bin`).
    public func setImageBin(_ image: String, folder: String) {
        imageBins[Self.imageName(image)] = folder
    }

    /// `registry/name:tag` or `name@sha256:...` without the tag or digest.
    static func imageName(_ image: String) -> String {
        var name = image.split(separator: "@", maxSplits: 1).first.map(String.init) ?? image
        if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") { name = String(name[..<colon]) }
        return name
    }
    let now: @Sendable () -> Date
    /// Bumped when a container ends, so the kubelet reports it without polling idle clusters.
    let changes = ChangeCounter()
    private var pods: [String: [String: ContainerInstance]] = [:]
    private var podMounts: [String: [String: [VolumeMount]]] = [:]

    public init(store: ClusterStore, data: VolumeDataStore, access: ClusterAccess = ClusterAccess(), now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.data = data
        self.access = access
        self.now = now
    }

    /// True for commands the runtime models without a process.
    static func isIdle(_ command: [String]) -> Bool {
        command.isEmpty || command == ["sleep", "infinity"] || command == ["/bin/sleep", "infinity"] || command == ["tail", "-f", "/dev/null"]
    }

    /// Starts every container of `pod` that is not started yet; returns the pod's containers.
    @discardableResult
    func start(pod: JSONValue, mounts: [String: [VolumeMount]], environment podEnvironment: [String: String] = [:]) async -> [String: ContainerInstance] {
        guard let uid = pod[path: ["metadata", "uid"]]?.stringValue else { return [:] }
        // Looked up before anything changes: the lookups wait for podman.
        var images: [String: PodmanEngine.Image] = [:]
        if let engine {
            for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
                guard let name = container["name"]?.stringValue, let reference = container["image"]?.stringValue,
                    pods[uid]?[name] == nil, let image = await engine.image(reference)
                else { continue }
                images[name] = image
            }
        }
        podMounts[uid] = mounts
        var instances = pods[uid] ?? [:]
        var ownershipDone = false
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            guard let name = container["name"]?.stringValue, instances[name] == nil else { continue }
            var environment = podEnvironment
            environment["HOSTNAME"] = pod[path: ["metadata", "name"]]?.stringValue ?? ""
            for variable in container["env"]?.arrayValue ?? [] {
                if let key = variable["name"]?.stringValue, let value = variable["value"]?.stringValue { environment[key] = value }
            }
            if let engine, let image = images[name] {
                instances[name] = startPodman(
                    engine: engine, image: image, pod: pod, uid: uid, container: container, name: name, mounts: mounts[name] ?? [],
                    environment: environment, ownershipDone: &ownershipDone)
                continue
            }
            let reference = container["image"]?.stringValue ?? ""
            let note = engine == nil ? nil : "image \(reference) is not in podman's local storage: its command runs as a host process"
            let command = ((container["command"]?.arrayValue ?? []) + (container["args"]?.arrayValue ?? [])).compactMap(\.stringValue)
            let log = ContainerLog()
            let instance = ContainerInstance(
                name: name, log: log, state: .running(startedAt: now()), changes: changes, containerID: "sim://\(uid)/\(name)", note: note)
            instances[name] = instance
            guard !Self.isIdle(command) else { continue }
            if let folder = imageBins[Self.imageName(reference)] {
                environment["PATH"] = folder + ":" + ContainerProcess.defaultPath
            }
            let clock = now
            do {
                let helper = try data.mountHelper()
                let process = try ContainerProcess(
                    command: command, mounts: mounts[name] ?? [], workingDirectory: container["workingDir"]?.stringValue ?? "/",
                    environment: environment, helper: helper, withStdin: false, sink: Self.sink(log: log, instance: instance, clock: clock))
                instance.attach(process)
            } catch let error as ContainerRuntimeError {
                instance.failed(error.message)
            } catch {
                instance.failed("cannot write the mount helper under \(data.root.path): \(error)")
            }
        }
        pods[uid] = instances
        return instances
    }

    /// Where a container's output and end go.
    private static func sink(log: ContainerLog, instance: ContainerInstance, clock: @escaping @Sendable () -> Date)
        -> @Sendable (ContainerProcess.Output) -> Void
    {
        { output in
            switch output {
            case .stdout(let chunk), .stderr(let chunk): log.append(chunk)
            case .exited(let code): instance.exited(code, now: clock())
            }
        }
    }

    /// A podman container's output; at its end, when `podman run` relayed nothing (it can miss
    /// the output of a container that exits at once), podman's own log of it is used, then the
    /// container is removed. The container counts as ended only after that.
    private static func podmanSink(
        log: ContainerLog, instance: ContainerInstance, clock: @escaping @Sendable () -> Date, engine: PodmanEngine, container: String
    ) -> @Sendable (ContainerProcess.Output) -> Void {
        let relayed = Mutex(false)
        return { output in
            switch output {
            case .stdout(let chunk), .stderr(let chunk):
                relayed.withLock { $0 = true }
                log.append(chunk)
            case .exited(let code):
                let sawOutput = relayed.withLock { $0 }
                Task {
                    if !sawOutput { log.append(await engine.logs(container)) }
                    await engine.remove([container], grace: 0)
                    instance.exited(code, now: clock())
                }
            }
        }
    }

    /// Starts one container with podman, or records why the kubelet would not.
    private func startPodman(
        engine: PodmanEngine, image: PodmanEngine.Image, pod: JSONValue, uid: String, container: JSONValue, name: String,
        mounts: [VolumeMount], environment: [String: String], ownershipDone: inout Bool
    ) -> ContainerInstance {
        // Unique per server and pod; podman names allow [a-zA-Z0-9_.-].
        let containerName = "lhdr-sim-\(getpid())-\(VolumeDataStore.safe(uid))-\(VolumeDataStore.safe(name))"
        let reference = container["image"]?.stringValue ?? ""
        let log = ContainerLog()
        let imageID = image.id.hasPrefix("sha256:") ? image.id : "sha256:\(image.id)"
        switch PodmanLaunch.plan(
            pod: pod, container: container, image: image, name: containerName, reference: reference, mounts: mounts, environment: environment)
        {
        case .failure(let refusal):
            let instance = ContainerInstance(
                name: name, log: log, state: .running(startedAt: now()), changes: changes, containerID: "", imageID: imageID)
            instance.failed(refusal.message, reason: refusal.reason)
            return instance
        case .success(let launch):
            if !ownershipDone {
                // Every container's volumes, once: the kubelet prepares volumes per pod.
                VolumeOwnership.apply(mounts: Array(Set((podMounts[uid] ?? [:]).values.joined())), runAsUser: launch.runAsUser, fsGroup: launch.fsGroup)
                ownershipDone = true
            }
            // Running only once podman says so: `podman run` takes a moment to create the container.
            let instance = ContainerInstance(
                name: name, log: log, state: .creating, changes: changes, containerID: "podman://\(containerName)", imageID: imageID,
                note: "runs as podman container \(containerName) from image \(reference) (\(imageID))")
            podmanNames[uid, default: [:]][name] = containerName
            do {
                let process = try ContainerProcess(
                    request: engine.runRequest(launch), describing: "container \(name) (image \(reference))", withStdin: false,
                    sink: Self.podmanSink(log: log, instance: instance, clock: now, engine: engine, container: containerName),
                    beforeTerminate: { Task { await engine.remove([containerName]) } })
                instance.attach(process)
                let clock = now
                Task {
                    if await engine.waitUntilStarted(containerName, while: { process.isRunning }) { instance.started(at: clock()) }
                }
            } catch {
                instance.failed(error.message)
            }
            return instance
        }
    }

    /// The containers started for a pod, by name.
    public func containers(podUID: String) -> [String: ContainerInstance] {
        pods[podUID] ?? [:]
    }

    /// Stops every container process (the server is going away; nothing may outlive it).
    public func stopAll() async {
        for uid in pods.keys { stop(podUID: uid) }
        let names = podmanNames.values.flatMap(\.values)
        podmanNames = [:]
        if let engine { await engine.remove(names, grace: 1) }
    }

    /// Stops a pod's processes (SIGTERM, then SIGKILL).
    func stop(podUID: String) {
        for instance in (pods[podUID] ?? [:]).values { instance.process?.terminate() }
    }

    /// Stops and forgets a pod, including its emptyDirs.
    func remove(podUID: String) {
        stop(podUID: podUID)
        for instance in (pods[podUID] ?? [:]).values { instance.log.finish() }
        pods[podUID] = nil
        podMounts[podUID] = nil
        podmanNames[podUID] = nil
        data.removePod(uid: podUID)
    }

    /// The uids the runtime holds, so the kubelet can drop pods that vanished from the store.
    var knownPods: [String] { Array(pods.keys) }

    // MARK: - Serving logs and exec

    /// Resolves `container` (or the default one) of a stored pod, with the API server's error wording.
    func resolve(namespace: String, pod name: String, container: String?) async throws(APIError) -> (pod: JSONValue, container: String) {
        guard let podType = await store.type(group: "", resource: "pods") else { throw .unknownResource }
        let pod = try await store.get(podType, namespace: namespace, name: name)
        let names = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let chosen: String
        if let container, !container.isEmpty {
            guard names.contains(container) else { throw .badRequest("container \(container) is not valid for pod \(name)") }
            chosen = container
        } else if let annotated = pod[path: ["metadata", "annotations", "kubectl.kubernetes.io/default-container"]]?.stringValue, names.contains(annotated) {
            chosen = annotated
        } else if names.count == 1, let only = names.first {
            chosen = only
        } else {
            throw .badRequest("a container name must be specified for pod \(name), choose one of: [\(names.joined(separator: " "))]")
        }
        return (pod, chosen)
    }

    public func logs(_ request: APIRequest, namespace: String, pod name: String) async throws(APIError) -> APIResponse {
        let (pod, container) = try await resolve(namespace: namespace, pod: name, container: request.parameter("container"))
        guard let uid = pod[path: ["metadata", "uid"]]?.stringValue, let instance = pods[uid]?[container] else {
            throw .badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: ContainerCreating")
        }
        if request.parameter("previous") == "true" {
            throw .badRequest("previous terminated container \"\(container)\" in pod \"\(name)\" not found")
        }
        let tail = request.parameter("tailLines").flatMap { Int($0) }
        let limit = request.parameter("limitBytes").flatMap { Int($0) }
        let headers = [("Content-Type", "text/plain")]
        if request.parameter("follow") == "true" {
            var stream = instance.log.follow(tailLines: tail)
            if let limit { stream = Self.limited(stream, to: limit) }
            return APIResponse(status: 200, headers: headers, body: .stream(stream))
        }
        return APIResponse(status: 200, headers: headers, body: .data(instance.log.read(tailLines: tail, limitBytes: limit)))
    }

    /// Cuts a followed log after `limit` bytes, as limitBytes does.
    private static func limited(_ stream: AsyncStream<Data>, to limit: Int) -> AsyncStream<Data> {
        AsyncStream { continuation in
            // Bounded by the source stream: ends when it ends or the limit is reached.
            let task = Task {
                var left = limit
                for await chunk in stream {
                    let part = chunk.prefix(left)
                    left -= part.count
                    if !part.isEmpty { continuation.yield(part) }
                    if left <= 0 { break }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The running container an exec goes to.
    private func execTarget(namespace: String, pod name: String, container: String?) async throws(APIError) -> (uid: String, container: String) {
        let (pod, chosen) = try await resolve(namespace: namespace, pod: name, container: container)
        let phase = pod[path: ["status", "phase"]]?.stringValue ?? "Pending"
        if phase == "Succeeded" || phase == "Failed" {
            throw .badRequest("cannot exec into a container in a completed pod; current phase is \(phase)")
        }
        guard let uid = pod[path: ["metadata", "uid"]]?.stringValue, let instance = pods[uid]?[chosen], case .running = instance.state else {
            throw .badRequest("container \(chosen) is not running in pod \(name); current phase is \(phase)")
        }
        return (uid, chosen)
    }

    public func validateExec(_ request: APIRequest, namespace: String, pod: String) async throws(APIError) {
        _ = try await execTarget(namespace: namespace, pod: pod, container: request.parameter("container"))
        if (request.query["command"] ?? []).isEmpty { throw .badRequest("you must specify at least one command for the container") }
    }

    /// Runs `command` in a running container of a pod, with the container's volumes mounted.
    /// - Throws: BadRequest for an unknown container or a pod that is not running.
    public func exec(namespace: String, pod name: String, container: String?, command: [String], stdin: Bool) async throws(APIError) -> ContainerProcess {
        let (uid, chosen) = try await execTarget(namespace: namespace, pod: name, container: container)
        guard !command.isEmpty else { throw .badRequest("you must specify at least one command for the container") }
        if let engine, let containerName = podmanNames[uid]?[chosen] {
            do {
                return try ContainerProcess(
                    request: engine.execRequest(container: containerName, command: command, stdin: stdin), describing: "exec \(command)",
                    withStdin: stdin)
            } catch {
                throw .internalError("exec in pod \(namespace)/\(name) container \(chosen): \(error.message)")
            }
        }
        do {
            return try ContainerProcess(command: command, mounts: podMounts[uid]?[chosen] ?? [], helper: try data.mountHelper(), withStdin: stdin)
        } catch let error as ContainerRuntimeError {
            throw .internalError("exec in pod \(namespace)/\(name) container \(chosen): \(error.message)")
        } catch {
            throw .internalError("exec in pod \(namespace)/\(name): cannot write the mount helper under \(data.root.path): \(error)")
        }
    }
}
