import Foundation
import KubeModels
import ProcessRunner

#if canImport(Glibc)
    import Glibc
#endif

/// `sim serve --container-runtime podman`: the simulated kubelet runs a container whose image is
/// in podman's local storage as a real podman container (see ``PodmanLaunch`` for what of the
/// pod spec is applied). It never pulls; a container whose image is absent runs as before, as a
/// host process, and its pod gets an event saying so.
///
/// Root only: rootless podman needs subordinate id ranges and its own image storage, which an
/// ordinary user's machine may not have; the host-process runtime serves that case.
public struct PodmanEngine: Sendable, Equatable {
    public let podman: String
    /// The OCI runtime podman is told to use: runc when installed, since crun refuses hosts whose
    /// cgroups are in hybrid mode.
    public let ociRuntime: String?

    public init(podman: String, ociRuntime: String?) {
        self.podman = podman
        self.ociRuntime = ociRuntime
    }

    /// podman on this machine, usable by this process, or why not.
    public static func locate() -> Result<PodmanEngine, ContainerRuntimeError> {
        guard let podman = ToolLocator.locate("podman") else {
            return .failure(
                ContainerRuntimeError(message: "--container-runtime podman: podman is not installed (Debian: apt-get install podman runc)"))
        }
        guard geteuid() == 0 else {
            return .failure(
                ContainerRuntimeError(
                    message:
                        "--container-runtime podman needs root (rootless podman needs /etc/subuid ranges and its own image storage); run sim serve as root, or leave out --container-runtime to run pod commands as host processes"
                ))
        }
        let runc = ["/usr/sbin/runc", "/usr/bin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) }
        return .success(PodmanEngine(podman: podman, ociRuntime: runc))
    }

    /// An image found in local storage.
    public struct Image: Sendable, Equatable {
        public var id: String
        /// The image config's `User` ("" when unset, which means root).
        public var user: String

        public init(id: String, user: String) {
            self.id = id
            self.user = user
        }
    }

    /// The image if it is in local storage; nil when it is not (nothing is pulled).
    func image(_ reference: String) async -> Image? {
        guard !reference.isEmpty, !reference.hasPrefix("-") else { return nil }
        let request = ProcessRequest(
            executable: podman, arguments: globalArguments + ["image", "inspect", "--format", "{{.Id}}\t{{.Config.User}}", reference],
            timeout: .seconds(30), grace: .seconds(1))
        guard let outcome = try? await ProcessRunner.run(request), outcome.succeeded else { return nil }
        let line = String(decoding: outcome.standardOutput, as: UTF8.self).split(separator: "\n").first ?? ""
        let fields = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let id = fields.first, !id.isEmpty else { return nil }
        return Image(id: id, user: fields.count > 1 ? fields[1] : "")
    }

    var globalArguments: [String] { ociRuntime.map { ["--runtime", $0] } ?? [] }

    /// `podman run …` for a planned container, in the foreground: its output is the container's.
    func runRequest(_ launch: PodmanLaunch) -> ProcessRequest {
        ProcessRequest(executable: podman, arguments: globalArguments + ["run"] + launch.arguments, environment: Self.environment)
    }

    /// `podman exec` into a running container, as the container's user.
    func execRequest(container name: String, command: [String], stdin: Bool) -> ProcessRequest {
        ProcessRequest(
            executable: podman, arguments: globalArguments + ["exec"] + (stdin ? ["--interactive"] : []) + [name] + command,
            environment: Self.environment)
    }

    /// Waits until podman reports the container started (running, or already exited after
    /// starting); false when `podman run` ended first or a minute passed.
    func waitUntilStarted(_ name: String, while alive: @Sendable () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            let request = ProcessRequest(
                executable: podman, arguments: globalArguments + ["container", "inspect", "--format", "{{.State.Status}}", name],
                environment: Self.environment, standardError: .discard, timeout: .seconds(30), grace: .seconds(1))
            if let outcome = try? await ProcessRunner.run(request), outcome.succeeded {
                let status = String(decoding: outcome.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if ["running", "exited", "stopped", "stopping", "paused"].contains(status) { return true }
            }
            guard alive() else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// What the container wrote, as podman's log kept it (stdout and stderr in one stream).
    func logs(_ name: String) async -> Data {
        let request = ProcessRequest(
            executable: podman, arguments: globalArguments + ["logs", name], environment: Self.environment,
            standardError: .intoStandardOutput, timeout: .seconds(30), grace: .seconds(1))
        return (try? await ProcessRunner.run(request))?.standardOutput ?? Data()
    }

    /// Stops and removes containers (SIGTERM, SIGKILL after `grace`); waits for podman.
    func remove(_ names: [String], grace: Int = 2) async {
        guard !names.isEmpty else { return }
        let request = ProcessRequest(
            executable: podman, arguments: globalArguments + ["rm", "--force", "--ignore", "--time", String(grace)] + names,
            environment: Self.environment, standardOutput: .discard, standardError: .discard, timeout: .seconds(30), grace: .seconds(1))
        _ = try? await ProcessRunner.run(request)
    }

    /// podman's own environment: only what it needs, nothing of the simulator's.
    static var environment: [String: String] {
        let host = ProcessInfo.processInfo.environment
        var environment = ["PATH": host["PATH"] ?? ContainerProcess.defaultPath]
        for key in ["HOME", "XDG_RUNTIME_DIR", "TMPDIR", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF"] {
            if let value = host[key] { environment[key] = value }
        }
        return environment
    }
}

/// What the kubelet decides for one container before podman starts it: whether it may start at
/// all (runAsNonRoot against the effective user, with the kubelet's wording), and the `podman run`
/// arguments that apply the pod's and container's securityContext, env, working directory,
/// volumes and command.
///
/// Applied: runAsUser, runAsGroup, runAsNonRoot, fsGroup and supplementalGroups (as extra
/// groups; volume ownership is done by ``VolumeOwnership``), readOnlyRootFilesystem (without
/// podman's tmpfs extras, as Kubernetes has none), allowPrivilegeEscalation=false
/// (no-new-privileges), capabilities add/drop, privileged, an Unconfined seccomp profile.
/// Host network (pods reach the simulated API server on loopback). Not applied: resource limits
/// (these hosts' hybrid cgroups), hostname, probes, restarts.
public struct PodmanLaunch: Sendable, Equatable {
    /// Arguments after `podman run`.
    public var arguments: [String]
    /// The user the container runs as, when the spec names it.
    public var runAsUser: Int?
    public var fsGroup: Int?

    /// The kubelet refuses to create the container: the waiting reason and message.
    public struct Refusal: Error, Sendable, Equatable {
        public var reason: String
        public var message: String
    }

    /// Label podman containers of this simulator carry: the server's process id.
    static let ownerLabel = "io.longhorn-dr.sim.owner"

    public static func plan(
        pod: JSONValue, container: JSONValue, image: PodmanEngine.Image, name: String, reference: String,
        mounts: [VolumeMount], environment: [String: String]
    ) -> Result<PodmanLaunch, Refusal> {
        let podContext = pod[path: ["spec", "securityContext"]] ?? [:]
        let context = container["securityContext"] ?? [:]
        func setting(_ key: String) -> JSONValue? { context[key] ?? podContext[key] }
        let podName = pod[path: ["metadata", "name"]]?.stringValue ?? ""
        let namespace = pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
        let uid = pod[path: ["metadata", "uid"]]?.stringValue ?? ""
        let containerName = container["name"]?.stringValue ?? ""
        // The kubelet's own format for a pod in these messages: name_namespace(uid).
        let podLabel = "\"\(podName)_\(namespace)(\(uid))\""
        let runAsUser = setting("runAsUser")?.intValue
        let runAsGroup = setting("runAsGroup")?.intValue
        if setting("runAsNonRoot")?.boolValue == true {
            if let runAsUser {
                if runAsUser == 0 {
                    return .failure(
                        Refusal(
                            reason: "CreateContainerConfigError",
                            message: "container's runAsUser breaks non-root policy (pod: \(podLabel), container: \(containerName))"))
                }
            } else {
                let user = image.user.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                if user.isEmpty || user == "0" || user == "root" {
                    return .failure(
                        Refusal(
                            reason: "CreateContainerConfigError",
                            message: "container has runAsNonRoot and image will run as root (pod: \(podLabel), container: \(containerName))"))
                }
                if Int(user) == nil {
                    return .failure(
                        Refusal(
                            reason: "CreateContainerConfigError",
                            message:
                                "container has runAsNonRoot and image has non-numeric user (\(user)), cannot verify user is non-root (pod: \(podLabel), container: \(containerName))"
                        ))
                }
            }
        }
        for mount in mounts where mount.source.contains(",") || mount.target.contains(",") {
            return .failure(Refusal(reason: "CreateContainerConfigError", message: "volume path \(mount.source) → \(mount.target) contains a comma"))
        }
        var arguments = [
            // No --rm: a container that exits at once can end before `podman run` has attached,
            // and its output would be lost; the runtime reads `podman logs` then, and removes it.
            "--name", name, "--pull", "never", "--network", "host", "--label", "\(ownerLabel)=\(getpid())",
            // Podman's default limits cannot be raised in every sandbox; these can always be set.
            "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
        ]
        if let runAsUser {
            arguments += ["--user", runAsGroup.map { "\(runAsUser):\($0)" } ?? String(runAsUser)]
        } else if let runAsGroup {
            let imageUser = image.user.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
            arguments += ["--user", "\(imageUser.isEmpty ? "0" : imageUser):\(runAsGroup)"]
        }
        let fsGroup = podContext["fsGroup"]?.intValue
        var groups = fsGroup.map { [$0] } ?? []
        groups += (podContext["supplementalGroups"]?.arrayValue ?? []).compactMap(\.intValue)
        for group in groups { arguments += ["--group-add", String(group)] }
        if context["readOnlyRootFilesystem"]?.boolValue == true { arguments += ["--read-only", "--read-only-tmpfs=false"] }
        if context["allowPrivilegeEscalation"]?.boolValue == false { arguments += ["--security-opt", "no-new-privileges"] }
        if context["privileged"]?.boolValue == true { arguments += ["--privileged"] }
        for capability in context[path: ["capabilities", "drop"]]?.arrayValue ?? [] {
            if let name = capability.stringValue { arguments += ["--cap-drop", name] }
        }
        for capability in context[path: ["capabilities", "add"]]?.arrayValue ?? [] {
            if let name = capability.stringValue { arguments += ["--cap-add", name] }
        }
        if setting("seccompProfile")?["type"]?.stringValue == "Unconfined" { arguments += ["--security-opt", "seccomp=unconfined"] }
        if let workingDir = container["workingDir"]?.stringValue, !workingDir.isEmpty { arguments += ["--workdir", workingDir] }
        for key in environment.keys.sorted() { arguments += ["--env", "\(key)=\(environment[key] ?? "")"] }
        for mount in mounts {
            arguments += ["--mount", "type=bind,source=\(mount.source),destination=\(mount.target)" + (mount.readOnly ? ",ro=true" : "")]
        }
        let command = (container["command"]?.arrayValue ?? []).compactMap(\.stringValue)
        let args = (container["args"]?.arrayValue ?? []).compactMap(\.stringValue)
        if !command.isEmpty {
            // Kubernetes' command replaces the image's entrypoint and drops its CMD.
            let encoded = (try? JSONEncoder().encode(command)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
            arguments += ["--entrypoint", encoded]
        }
        arguments += [reference]
        arguments += args
        return .success(PodmanLaunch(arguments: arguments, runAsUser: runAsUser, fsGroup: fsGroup))
    }
}

/// What the kubelet does to a pod's volumes before its containers start, for containers that run
/// as another user: with fsGroup, every volume's files get that group, group read (and write for
/// writable volumes), and folders the setgid bit, as `SetVolumeOwnership` does; the
/// service-account token goes to the container's user (mode 0600) when the spec names one, else
/// it is made readable (0644, the projected volume's default mode).
enum VolumeOwnership {
    static func apply(mounts: [VolumeMount], runAsUser: Int?, fsGroup: Int?) {
        for mount in mounts {
            if mount.target == PodVolumes.serviceAccountPath {
                let token = (mount.source as NSString).appendingPathComponent("token")
                if let runAsUser {
                    _ = lchown(token, uid_t(runAsUser), fsGroup.map { gid_t($0) } ?? gid_t.max)
                    _ = chmod(token, fsGroup == nil ? 0o600 : 0o640)
                } else {
                    _ = chmod(token, 0o644)
                }
                continue
            }
            // Block devices keep their owner (root:disk): the kubelet applies fsGroup to filesystems only.
            var isFolder: ObjCBool = false
            guard let fsGroup, FileManager.default.fileExists(atPath: mount.source, isDirectory: &isFolder), isFolder.boolValue else { continue }
            let writable = !mount.readOnly
            adjust(mount.source, group: gid_t(fsGroup), writable: writable)
            let enumerator = FileManager.default.enumerator(atPath: mount.source)
            while let relative = enumerator?.nextObject() as? String {
                adjust((mount.source as NSString).appendingPathComponent(relative), group: gid_t(fsGroup), writable: writable)
            }
        }
    }

    private static func adjust(_ path: String, group: gid_t, writable: Bool) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let type = attributes[.type] as? FileAttributeType, type != .typeSymbolicLink,
            let permissions = attributes[.posixPermissions] as? Int
        else { return }
        _ = lchown(path, uid_t.max, group)
        var mode = permissions & 0o7777
        mode |= writable ? 0o060 : 0o040
        if type == .typeDirectory { mode |= 0o2010 }  // setgid: new files inherit the group; x to enter
        _ = chmod(path, mode_t(mode))
    }
}
