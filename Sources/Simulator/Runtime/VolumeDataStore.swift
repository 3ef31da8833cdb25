import Foundation
import KubeModels

/// Where the simulated cluster keeps volume content on the host. Everything lives under one data
/// root chosen when the cluster starts (a temporary directory unless the caller picks one):
///
/// - `volumes/<key>/`: a persistent volume's content, keyed by the PV's `csi.volumeHandle` (or the
///   PV name when it has none), so a Longhorn simulation can find the data of the volume it manages;
/// - `blocks/<key>`: the same volume seen as a block device (a PV of `volumeMode: Block`): the
///   image a Longhorn restore wrote, else zeros of the PV's size. A PV has one volumeMode, so a
///   volume is used either as files or as a device, and the two never need to agree;
/// - `pods/<uid>/<volume>/`: a pod's emptyDir volumes, gone with the pod;
/// - `bin/mount-exec`: the fixed helper that bind-mounts volumes inside a mount namespace.
public struct VolumeDataStore: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    /// A fresh data root under the system temporary directory.
    public static func temporary() -> VolumeDataStore {
        VolumeDataStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-sim-\(UUID().uuidString.lowercased())"))
    }

    /// The key under which a PV's content is stored: its CSI volume handle, else its name.
    public static func volumeKey(forPersistentVolume pv: JSONValue) -> String? {
        pv[path: ["spec", "csi", "volumeHandle"]]?.stringValue ?? pv[path: ["metadata", "name"]]?.stringValue
    }

    /// The directory holding the content of the volume stored under `key` (created on first use).
    public func directory(volumeKey key: String) throws -> URL {
        try ensure(root.appendingPathComponent("volumes").appendingPathComponent(Self.safe(key)))
    }

    /// Removes a volume's content, as deleting the backing storage would.
    public func removeVolume(volumeKey key: String) {
        try? FileManager.default.removeItem(at: root.appendingPathComponent("volumes").appendingPathComponent(Self.safe(key)))
        try? FileManager.default.removeItem(at: blockImage(volumeKey: key))
    }

    /// Where the volume stored under `key` keeps its content as a block device (not created here).
    public func blockImage(volumeKey key: String) -> URL {
        root.appendingPathComponent("blocks").appendingPathComponent(Self.safe(key))
    }

    /// Makes `image` the block content of the volume under `key` (moved, not copied), readable
    /// as a block device is on a node: by root and group disk (6), when the simulator runs as root.
    public func setBlockImage(volumeKey key: String, from image: URL) throws {
        let target = blockImage(volumeKey: key)
        _ = try ensure(target.deletingLastPathComponent())
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.moveItem(at: image, to: target)
        try Self.ownAsBlockDevice(target)
    }

    /// The block device of the volume under `key`, made of zeros (sparse) of `size` bytes when it has none yet.
    func blockDevice(volumeKey key: String, size: Int64) throws -> URL {
        let target = blockImage(volumeKey: key)
        if !FileManager.default.fileExists(atPath: target.path) {
            _ = try ensure(target.deletingLastPathComponent())
            try Self.makeSparseFile(target, size: size)
            try Self.ownAsBlockDevice(target)
        }
        return target
    }

    /// A new file of `size` bytes that takes no disk space until written (a volume's zeros).
    static func makeSparseFile(_ url: URL, size: Int64) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    static let diskGroup: gid_t = 6

    private static func ownAsBlockDevice(_ file: URL) throws {
        if geteuid() == 0 {
            guard chown(file.path, 0, diskGroup) == 0, chmod(file.path, 0o660) == 0 else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file.path])
            }
        } else {
            chmod(file.path, 0o600)
        }
    }

    /// A pod's emptyDir volume (created on first use).
    public func emptyDir(podUID: String, volume: String) throws -> URL {
        try ensure(root.appendingPathComponent("pods").appendingPathComponent(Self.safe(podUID)).appendingPathComponent(Self.safe(volume)))
    }

    /// Drops everything a pod had on the host (its emptyDirs).
    public func removePod(uid: String) {
        try? FileManager.default.removeItem(at: root.appendingPathComponent("pods").appendingPathComponent(Self.safe(uid)))
    }

    /// Writes the mount helper (always the same fixed text) and returns its path; also makes the
    /// empty `rootfs` folder rootless pods build their root on.
    func mountHelper() throws -> URL {
        let bin = try ensure(root.appendingPathComponent("bin"))
        _ = try ensure(root.appendingPathComponent("rootfs"))
        let helper = bin.appendingPathComponent("mount-exec")
        if (try? String(contentsOf: helper, encoding: .utf8)) != Self.helperScript {
            try Data(Self.helperScript.utf8).write(to: helper)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: helper.path)
        }
        return helper
    }

    /// Runs inside `unshare`'s private mount namespace (and, rootless, a user namespace), so the
    /// mounts are private to the command. Every value arrives as a positional argument; nothing
    /// from a pod is ever parsed as shell text.
    static let helperScript = """
        #!/bin/sh
        # Usage: mount-exec ROOTFS WORKDIR COUNT [SOURCE TARGET MODE]... COMMAND [ARG]...
        # ROOTFS "-" (root): bind each SOURCE onto TARGET in place (read-only when MODE is ro); a
        # SOURCE that is a file (a block device's image) is bound onto a file.
        # ROOTFS a folder (rootless): a tmpfs there mirrors the host's root (each entry bound back),
        # host folders on the way to a TARGET are mirrored the same way so TARGET can be made,
        # then the command runs chrooted in it. Nothing on the host is created or changed.
        set -eu
        rootfs=$1
        workdir=$2
        count=$3
        shift 3
        if [ "$rootfs" = - ]; then
          while [ "$count" -gt 0 ]; do
            if [ -d "$1" ]; then mkdir -p "$2"; else mkdir -p "$(dirname "$2")"; [ -e "$2" ] || : >"$2"; fi
            mount --bind "$1" "$2"
            if [ "$3" = ro ]; then mount -o remount,bind,ro "$2"; fi
            shift 3
            count=$((count - 1))
          done
          mkdir -p "$workdir"
          cd "$workdir"
          exec "$@"
        fi
        mount -t tmpfs -o mode=0755 tmpfs "$rootfs"
        mirrored=" "
        mirror() { # mirror DIR: $rootfs/DIR becomes a tmpfs holding binds of the host DIR's entries
          base="$rootfs${1%/}"
          if [ "$1" != / ]; then mount -t tmpfs -o mode=0755 tmpfs "$base"; fi
          for entry in "${1%/}"/* "${1%/}"/.[!.]*; do
            [ -e "$entry" ] || [ -L "$entry" ] || continue
            copy="$base/${entry##*/}"
            if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$copy"
            elif [ -d "$entry" ]; then mkdir "$copy"; mount --rbind "$entry" "$copy"
            else : >"$copy"; mount --bind "$entry" "$copy"; fi
          done
          mirrored="$mirrored$1 "
        }
        make_dir() { # make_dir PATH: PATH in the new root, mirroring host folders on the way
          path=$(realpath -m "$1")
          sofar=""
          set -f; IFS=/
          for part in $path; do
            [ -n "$part" ] || continue
            parent=${sofar:-/}
            sofar="$sofar/$part"
            [ -e "$rootfs$sofar" ] && continue
            case "$mirrored" in *" $parent "*) ;; *) mirror "$parent" ;; esac
            [ -e "$rootfs$sofar" ] || mkdir "$rootfs$sofar"
          done
          unset IFS; set +f
        }
        mirror /
        while [ "$count" -gt 0 ]; do
          if [ -d "$1" ]; then
            make_dir "$2"
          else # a file (a block device's image): its folder, then the file to bind it on
            make_dir "$(dirname "$2")"
            [ -e "$rootfs$(realpath -m "$2")" ] || : >"$rootfs$(realpath -m "$2")"
          fi
          target=$(realpath -m "$2")
          mount --bind "$1" "$rootfs$target"
          if [ "$3" = ro ]; then mount -o remount,bind,ro "$rootfs$target"; fi
          shift 3
          count=$((count - 1))
        done
        make_dir "$workdir"
        exec chroot "$rootfs" /bin/sh -c 'cd "$1" && shift && exec "$@"' mount-exec "$workdir" "$@"

        """

    private func ensure(_ url: URL) throws -> URL {
        // The root holds volume contents, Secrets and tokens: only its owner may look inside.
        if !FileManager.default.fileExists(atPath: root.path) {
            try FileManager.default.createDirectory(at: root.deletingLastPathComponent(), withIntermediateDirectories: true)
            if mkdir(root.path, 0o700) != 0, errno != EEXIST {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: root.path])
            }
        }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `data` to `file` readable by its owner only from the first byte (a Secret's key, a
    /// token), never through a symlink.
    static func writePrivate(_ data: Data, to file: URL) throws {
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: file.path]) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        fchmod(descriptor, 0o600)
        try handle.write(contentsOf: data)
        try handle.close()
    }

    /// Keys and uids become single path components; anything else is replaced.
    static func safe(_ component: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        let mapped = String(component.map { allowed.contains($0) ? $0 : "_" })
        return mapped.isEmpty || mapped == "." || mapped == ".." ? "_\(mapped)" : mapped
    }
}

/// One directory of the host made visible inside a container.
public struct VolumeMount: Sendable, Hashable {
    public var source: String
    public var target: String
    public var readOnly: Bool

    public init(source: String, target: String, readOnly: Bool = false) {
        self.source = source
        self.target = target
        self.readOnly = readOnly
    }
}

/// Resolves what a pod's containers mount: PVC-backed volumes through their bound PV, emptyDirs
/// per pod, configMap and secret volumes as files written per pod when it starts (not updated
/// afterwards), and the service-account token. Other kinds (hostPath, projected, ...) are not materialised.
enum PodVolumes {
    /// Why a pod cannot start yet, naming the claim.
    struct NotReady: Error {
        var message: String
    }

    /// Claims the pod mounts that are not Bound yet (missing, Pending or Lost), as a message; nil when all are Bound.
    static func unboundClaims(of pod: JSONValue, store: isolated ClusterStore) -> String? {
        guard let claims = store.type(group: "", resource: "persistentvolumeclaims") else { return nil }
        let namespace = pod[path: ["metadata", "namespace"]]?.stringValue
        for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let claimName = volume[path: ["persistentVolumeClaim", "claimName"]]?.stringValue else { continue }
            guard let claim = store.find(claims, namespace: namespace, name: claimName) else {
                return "persistentvolumeclaim \"\(claimName)\" not found"
            }
            if claim[path: ["metadata", "deletionTimestamp"]] != nil, claim[path: ["status", "phase"]]?.stringValue != "Bound" {
                return "persistentvolumeclaim \"\(claimName)\" is being deleted"
            }
            if claim[path: ["status", "phase"]]?.stringValue != "Bound" {
                return
                    "pod has unbound immediate PersistentVolumeClaims: persistentvolumeclaim \"\(claimName)\" is \(claim[path: ["status", "phase"]]?.stringValue ?? "Pending")"
            }
        }
        return nil
    }

    /// Writes a ConfigMap's (or Secret's, decoded) keys as files, or only the listed `items`.
    static func writeFiles(of object: JSONValue, isSecret: Bool, items: [JSONValue]?, into directory: URL) throws {
        var files: [String: Data] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] {
            guard let text = value.stringValue else { continue }
            files[key] = isSecret ? (Data(base64Encoded: text) ?? Data()) : Data(text.utf8)
        }
        if !isSecret {
            for (key, value) in object["binaryData"]?.objectValue ?? [:] { files[key] = value.stringValue.flatMap { Data(base64Encoded: $0) } }
        }
        var chosen: [(path: String, data: Data)] = files.map { ($0.key, $0.value) }
        if let items {
            chosen = items.compactMap { item in
                guard let key = item["key"]?.stringValue, let path = item["path"]?.stringValue, let data = files[key] else { return nil }
                return (path, data)
            }
        }
        for (path, content) in chosen where !path.hasPrefix("/") && !path.split(separator: "/").contains("..") {
            let file = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            if isSecret { try VolumeDataStore.writePrivate(content, to: file) } else { try content.write(to: file) }
        }
    }

    /// Where the kubelet projects a pod's service-account credentials.
    static let serviceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The service-account projection: a token issued for the pod's service account, the CA and
    /// the namespace, mounted read-only into every container, plus `KUBERNETES_SERVICE_HOST/PORT`.
    /// Nil when the pod opts out or the server has no HTTPS endpoint (in-process clusters).
    static func serviceAccount(of pod: JSONValue, access: ClusterAccess, data: VolumeDataStore) async throws -> (
        mount: VolumeMount, environment: [String: String]
    )? {
        guard pod[path: ["spec", "automountServiceAccountToken"]]?.boolValue != false,
            let endpoint = await access.endpoint,
            let uid = pod[path: ["metadata", "uid"]]?.stringValue,
            let namespace = pod[path: ["metadata", "namespace"]]?.stringValue
        else { return nil }
        let account = pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? "default"
        let token = await access.issueToken(namespace: namespace, serviceAccount: account)
        let directory = try data.emptyDir(podUID: uid, volume: "kube-api-access")
        try VolumeDataStore.writePrivate(Data(token.utf8), to: directory.appendingPathComponent("token"))
        try Data(endpoint.caPEM.utf8).write(to: directory.appendingPathComponent("ca.crt"))
        try Data(namespace.utf8).write(to: directory.appendingPathComponent("namespace"))
        return (
            VolumeMount(source: directory.path, target: serviceAccountPath, readOnly: true),
            [
                "KUBERNETES_SERVICE_HOST": endpoint.host, "KUBERNETES_SERVICE_PORT": String(endpoint.port),
                "KUBERNETES_SERVICE_PORT_HTTPS": String(endpoint.port),
            ]
        )
    }

    /// The host directories each container of `pod` sees, by container name.
    static func mounts(of pod: JSONValue, store: isolated ClusterStore, data: VolumeDataStore) throws(NotReady) -> [String: [VolumeMount]] {
        let namespace = pod[path: ["metadata", "namespace"]]?.stringValue
        let uid = pod[path: ["metadata", "uid"]]?.stringValue ?? "unknown"
        var sources: [String: String] = [:]
        // Volumes whose PV is `volumeMode: Block`: their device, and whether the claim is mounted read-only.
        var devices: [String: (source: String, readOnly: Bool)] = [:]
        for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue else { continue }
            do {
                if let claimName = volume[path: ["persistentVolumeClaim", "claimName"]]?.stringValue {
                    guard let claims = store.type(group: "", resource: "persistentvolumeclaims"),
                        let volumes = store.type(group: "", resource: "persistentvolumes"),
                        let claim = store.find(claims, namespace: namespace, name: claimName),
                        let pvName = claim[path: ["spec", "volumeName"]]?.stringValue,
                        let pv = store.find(volumes, namespace: nil, name: pvName),
                        let key = VolumeDataStore.volumeKey(forPersistentVolume: pv)
                    else { throw NotReady(message: "volume \"\(name)\": persistentvolumeclaim \"\(claimName)\" has no bound persistent volume") }
                    if pv[path: ["spec", "volumeMode"]]?.stringValue == "Block" {
                        let size = Int64(Quantity.bytes(pv[path: ["spec", "capacity", "storage"]]?.stringValue ?? "") ?? 0)
                        let readOnly = volume[path: ["persistentVolumeClaim", "readOnly"]]?.boolValue ?? false
                        devices[name] = (try data.blockDevice(volumeKey: key, size: size).path, readOnly)
                    } else {
                        sources[name] = try data.directory(volumeKey: key).path
                    }
                } else if volume["emptyDir"] != nil {
                    sources[name] = try data.emptyDir(podUID: uid, volume: name).path
                } else if let source = volume["configMap"] ?? volume["secret"] {
                    let isSecret = volume["secret"] != nil
                    let objectName = source[isSecret ? "secretName" : "name"]?.stringValue ?? ""
                    let kind = isSecret ? "secret" : "configmap"
                    guard let type = store.type(group: "", resource: isSecret ? "secrets" : "configmaps") else { continue }
                    let directory = try data.emptyDir(podUID: uid, volume: name)
                    if let object = store.find(type, namespace: namespace, name: objectName) {
                        try writeFiles(of: object, isSecret: isSecret, items: source["items"]?.arrayValue, into: directory)
                    } else if source["optional"]?.boolValue != true {
                        throw NotReady(message: "MountVolume.SetUp failed for volume \"\(name)\" : \(kind) \"\(objectName)\" not found")
                    }
                    sources[name] = directory.path
                }
            } catch let error as NotReady {
                throw error
            } catch {
                throw NotReady(message: "volume \"\(name)\": cannot prepare its directory under \(data.root.path): \(error)")
            }
        }
        var result: [String: [VolumeMount]] = [:]
        for list in ["initContainers", "containers"] {
            for container in pod[path: ["spec", list]]?.arrayValue ?? [] {
                guard let containerName = container["name"]?.stringValue else { continue }
                var mounts: [VolumeMount] = []
                for device in container["volumeDevices"]?.arrayValue ?? [] {
                    guard let volume = device["name"]?.stringValue, let path = device["devicePath"]?.stringValue else { continue }
                    guard let source = devices[volume] else {
                        // The kubelet maps only block-mode volumes as devices.
                        throw NotReady(
                            message: "container \"\(containerName)\": volume \"\(volume)\" is not a block volume (volumeMode Block); use volumeMounts")
                    }
                    guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                        throw NotReady(message: "container \"\(containerName)\": devicePath \"\(path)\" must be an absolute path without '..'")
                    }
                    mounts.append(VolumeMount(source: source.source, target: path, readOnly: source.readOnly))
                }
                for mount in container["volumeMounts"]?.arrayValue ?? [] {
                    guard let volume = mount["name"]?.stringValue, let path = mount["mountPath"]?.stringValue else { continue }
                    if devices[volume] != nil {
                        throw NotReady(
                            message: "container \"\(containerName)\": volume \"\(volume)\" has volumeMode Block; use volumeDevices, not volumeMounts")
                    }
                    guard var source = sources[volume] else { continue }
                    guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                        throw NotReady(message: "container \"\(containerName)\": mountPath \"\(path)\" must be an absolute path without '..'")
                    }
                    if let subPath = mount["subPath"]?.stringValue, !subPath.isEmpty {
                        guard !subPath.hasPrefix("/"), !subPath.split(separator: "/").contains("..") else {
                            throw NotReady(message: "container \"\(containerName)\": subPath \"\(subPath)\" must be relative without '..'")
                        }
                        source += "/" + subPath
                        try? FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                    }
                    mounts.append(VolumeMount(source: source, target: path, readOnly: mount["readOnly"]?.boolValue ?? false))
                }
                result[containerName] = mounts
            }
        }
        return result
    }
}
