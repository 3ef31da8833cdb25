import AWS
import ArgumentParser
import Assurance
import Backupstore
import ClusterExercise
import DRCore
import Delivery
import Exercise
import Foundation
import KubeClient
import KubeModels
import Longhorn

/// `longhorn-dr assure`: between DR exercises, every declared volume's newest backup checked in
/// the store, its age against its maxAge, its blocks verified; nothing destroyed, nothing written
/// to the store.
struct AssureCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assure",
        abstract: "Check every declared volume's newest backup in the store: its age against maxAge, and every block.",
        discussion: """
            Reads the restore config's volumes (and each one's maxAge), finds each volume's newest completed \
            backup straight in the S3 store, judges its age, and verifies its blocks (decompressed, SHA-512 \
            against the name). With --ledger FILE (or --ledger-in-store), blocks verified in earlier runs are \
            skipped, except a rolling share: every block is read again at least every --full-every runs. With \
            --cross-check, the cluster's Longhorn objects must name the same newest backup. With --restore-test, \
            the cluster's Longhorn restores one volume's newest backup per run (round robin) into a scratch volume, a \
            pod reads it back and it must hold exactly the backup's data; the scratch objects are deleted. Nothing is \
            written to Longhorn's folders in the store, and nothing in the cluster but those scratch objects.
            Exit status: 0 every volume passed, 1 a backup is missing, stale or damaged, 2 bad arguments or config, \
            3 credentials or tools missing, 4 store unreachable.
            """)

    @Option(name: .shortAndLong, help: "The restore config whose volumes to check (kubernetes/.../restore-orchestrator/restore.yaml).")
    var config: String

    @Option(
        help: ArgumentHelp(
            "The Longhorn backup target. Without it, --cross-check and --restore-test read it from the cluster's BackupTarget (with its credentialSecret as --secret).",
            valueName: "s3://bucket@region/path/"))
    var target: String?

    @Option(help: ArgumentHelp("The ledger of verified blocks (kept 0600; never inside the backup store's folders).", valueName: "file"))
    var ledger: String?

    @Flag(
        help: ArgumentHelp(
            "Keep the ledger in the store itself, at <target path>/\(VerifiedBlockLedger.storeKey) beside Longhorn's backupstore/ folder (the one write assure makes to the store; for the in-cluster CronJob)."
        ))
    var ledgerInStore = false

    @Option(help: "With --ledger: every block is read again at least once in this many runs (1: all every run).")
    var fullEvery = 7

    @Option(help: "Blocks fetched and checked at once; memory use is about this many blocks.")
    var parallelism = 8

    @Option(help: "text or json.")
    var output: BackupVerifyCommand.OutputFormat = .text

    @Option(help: ArgumentHelp("Also write the results as Prometheus textfile-collector metrics here.", valueName: "file"))
    var metricsTextfile: String?

    @Flag(
        help: ArgumentHelp(
            "Also read the cluster's Longhorn backup objects (through --kubeconfig/--context, or in-cluster) and fail a volume whose newest backup there differs from the store's (not-synced, cluster-mismatch)."
        ))
    var crossCheck = false

    @Flag(
        help: ArgumentHelp(
            "Also restore one volume's newest backup per run (round robin through the ledger) into a scratch Longhorn volume, read it back in a pod and compare it with the backup; the scratch objects are deleted (needs the restore-test RBAC, docs/assure.md)."
        ))
    var restoreTest = false

    @Option(help: ArgumentHelp("The image of the restore test's reader pod (default: the image of the pod assure runs in).", valueName: "image"))
    var restoreTestImage: String?

    @Option(help: ArgumentHelp("How long the restore and the read back may take together (size it to the volume).", valueName: "duration"))
    var restoreTestTimeout = "1h"

    @Option(help: ArgumentHelp("Also PUT the metrics to this Prometheus Pushgateway (group job=longhorn_dr_assure, store=TARGET).", valueName: "url"))
    var pushgateway: String?

    @Option(help: ArgumentHelp("Notify a JSON webhook whose URL is in this environment variable.", valueName: "variable"))
    var webhookUrlFromEnv: String?

    @Option(help: ArgumentHelp("Notify a JSON webhook whose URL is in this file (a mounted Secret).", valueName: "file"))
    var webhookUrlFile: String?

    @Option(help: ArgumentHelp("Notify a Discord webhook whose URL is in this environment variable.", valueName: "variable"))
    var discordUrlFromEnv: String?

    @Option(help: ArgumentHelp("Notify a Discord webhook whose URL is in this file (a mounted Secret).", valueName: "file"))
    var discordUrlFile: String?

    @Option(help: "When to notify: failures (a FAIL only) or always.")
    var notify: NotifyWhen = .failures

    enum NotifyWhen: String, ExpressibleByArgument, CaseIterable {
        case failures, always
    }

    @Option(help: ArgumentHelp("A custom S3 endpoint (default: the Secret's or environment's AWS_ENDPOINTS).", valueName: "url"))
    var endpoint: String?

    @OptionGroup var aws: AWSOptions
    @OptionGroup var secretOptions: SecretOptions

    /// The outputs the flags name; the URLs of webhooks are read only when they are used.
    var outputs: ReportDelivery.Outputs {
        func secret(_ variable: String?, _ file: String?) -> SecretURL? { variable.map(SecretURL.environment) ?? file.map(SecretURL.file) }
        return ReportDelivery.Outputs(
            textfile: metricsTextfile, pushgateway: pushgateway, webhook: secret(webhookUrlFromEnv, webhookUrlFile),
            discord: secret(discordUrlFromEnv, discordUrlFile))
    }

    func validate() throws {
        if ledger != nil, ledgerInStore { throw ValidationError("--ledger and --ledger-in-store: give one") }
        if target == nil, !crossCheck, !restoreTest {
            throw ValidationError("--target is required (or --cross-check or --restore-test, to read it from the cluster's BackupTarget)")
        }
        if webhookUrlFromEnv != nil, webhookUrlFile != nil { throw ValidationError("--webhook-url-from-env and --webhook-url-file: give one") }
        if discordUrlFromEnv != nil, discordUrlFile != nil { throw ValidationError("--discord-url-from-env and --discord-url-file: give one") }
        if let pushgateway, let refusal = EndpointPolicy.cleartextRefusal(pushgateway) { throw ValidationError("--pushgateway: the URL \(refusal)") }
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be between 1 and 64; got \(parallelism)") }
        guard (1...366).contains(fullEvery) else { throw ValidationError("--full-every must be between 1 and 366; got \(fullEvery)") }
        guard let timeout = DurationText.parse(restoreTestTimeout), timeout > .zero else {
            throw ValidationError("--restore-test-timeout must be a duration such as 30m or 2h; got \(restoreTestTimeout)")
        }
        if restoreTestImage != nil, !restoreTest { throw ValidationError("--restore-test-image needs --restore-test") }
    }

    func run() async throws {
        let restoreConfig = try ConfigLoader.loadRestore(try ConfigLoader.readFile(config), file: config)
        // Read before the store, so the store's newest is never older than the cluster's view of it.
        let (target, cluster, secretOptions) = try await ClusterAndStore.resolve(
            namespace: restoreConfig.longhornNamespace, backupTarget: restoreConfig.backupTarget, target: self.target,
            readCluster: crossCheck || restoreTest, secretOptions: secretOptions)
        let location = try S3Location(parsing: target)
        let ledgerURL = ledger.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        if let ledgerURL, ledgerURL.path.contains("/backupstore/") {
            throw DRError(
                .usage, subject: "--ledger \(ledgerURL.path)", detail: "is inside a backupstore folder",
                hint: "keep the ledger out of Longhorn's folders (a small PVC or a folder of its own)")
        }
        var fileLedger: VerifiedBlockLedger?
        do {
            fileLedger = try ledgerURL.map { try VerifiedBlockLedger.load(from: $0, store: target) }
        } catch let error as LedgerError {
            throw DRError(.usage, subject: "--ledger", detail: error.message)
        }
        if ledgerURL == nil, !ledgerInStore { Terminal.note("no --ledger: every block of every newest backup is read") }
        let access = try await aws.storeAccess(location: location, endpoint: endpoint, secretOptions: secretOptions)
        let assurance = AssuranceRun(
            volumes: restoreConfig.volumes.map { AssuranceRun.Volume(name: $0.name, maxAge: $0.maxAge) }, parallelism: parallelism,
            fullEvery: ledgerURL == nil && !ledgerInStore ? 1 : fullEvery)
        let report = try await access.withStore { (opened: OpenedStore) async throws -> AssuranceReport in
            if let warning = opened.warning { Terminal.note(warning) }
            var ledger = fileLedger ?? VerifiedBlockLedger(store: target)
            if ledgerInStore {
                do {
                    ledger = try await VerifiedBlockLedger.load(from: opened.store, prefix: opened.layout.prefix, storeURL: target)
                } catch let error as LedgerError {
                    throw DRError(.usage, subject: "--ledger-in-store", detail: error.message)
                }
            }
            let reader = BackupReader(store: opened.store, layout: opened.layout)
            var report = await assurance.run(reader: reader, store: target, ledger: &ledger, now: Date(), cluster: crossCheck ? cluster : nil)
            if restoreTest {
                let eligible = Set(report.volumes.filter { $0.passed && !$0.backup.isEmpty }.map(\.volume))
                if let chosen = RestoreTest.pick(report.volumes.map(\.volume), after: ledger.lastRestoreTest, eligible: eligible),
                    let index = report.volumes.firstIndex(where: { $0.volume == chosen })
                {
                    ledger.lastRestoreTest = chosen
                    let outcome = await runRestoreTest(
                        volume: chosen, backup: report.volumes[index].backup, reader: reader, cluster: cluster,
                        namespace: restoreConfig.longhornNamespace)
                    report.volumes[index].record(outcome)
                } else {
                    Terminal.note("restore test: no volume passed the store check; nothing was restored")
                }
            }
            do {
                if let ledgerURL {
                    try ledger.save(to: ledgerURL)
                } else if ledgerInStore {
                    try await ledger.save(to: opened.store, prefix: opened.layout.prefix)
                }
            } catch {
                Terminal.note("warning: the ledger could not be saved: \(error); the next run reads these blocks again")
            }
            return report
        }
        print(output == .json ? report.json() : report.text())
        // Metrics always; notifications on a FAIL only, unless asked for every run (a daily PASS is noise).
        var outputs = outputs
        if notify == .failures, report.passed { (outputs.webhook, outputs.discord) = (nil, nil) }
        for problem in await ReportDelivery(outputs).deliver(report.deliveryContent()) { Terminal.note("warning: \(problem)") }
        if report.exitStatus != .ok { throw ExitStatusError(status: report.exitStatus) }
    }

    /// The restore test of `volume`'s newest store backup `backup`: through the Backup CR the
    /// cluster lists for it, compared with the digest its block list gives.
    func runRestoreTest(
        volume: String, backup: String, reader: BackupReader, cluster: Result<ClusterBackupView, DRError>?, namespace: String
    ) async -> RestoreTest.Outcome {
        let timeout = DurationText.parse(restoreTestTimeout) ?? .seconds(3600)
        func failed(_ detail: String, _ status: ExitStatus) -> RestoreTest.Outcome {
            .notStarted(volume: volume, backup: backup, detail: detail, status: status)
        }
        let view: ClusterBackupView
        switch cluster {
        case .success(let read)?: view = read
        case .failure(let error)?: return failed("the cluster's backups could not be read: \(error)", error.status)
        case nil: return failed("the cluster was not read", .usage)
        }
        guard let crd = view.backups.first(where: { $0.metadata.name == backup && $0.volumeName == volume }) else {
            return failed(
                "the cluster lists no Backup \(backup) of \(volume) (not synced yet?), so it cannot restore it; see `longhorn-dr backup list --cluster`",
                .verificationFailed)
        }
        let expected: ImageDigest
        do {
            expected = try ImageDigest.expected(for: try await reader.backupConfig(volume: volume, backup: backup))
        } catch {
            let failure = FailureMapping.drError(error)
            return failed("the backup's block list could not be read: \(failure)", failure.status)
        }
        do {
            let resolved = try Terminal.loadCluster(kubeconfig: secretOptions.kubeconfig, context: secretOptions.context)
            return try await KubeClient.withClient(resolved) { client in
                let longhorn = try await LonghornClient.connect(kube: client, namespace: namespace)
                var image = restoreTestImage
                if image == nil { image = try await Self.ownImage(client) }
                guard let image else {
                    return failed("--restore-test-image is needed outside a pod (the reader pod runs this tool's image)", .usage)
                }
                let test = RestoreTest(
                    longhorn: longhorn, settings: RestoreTest.Settings(image: image, timeout: timeout), note: { Terminal.note($0) })
                return await test.run(volume: volume, backup: crd, expected: expected)
            }
        } catch {
            let failure = FailureMapping.drError(error)
            return failed("the cluster could not be reached: \(failure)", failure.status)
        }
    }

    /// In a pod: the image of the container assure runs in (its pod is named by HOSTNAME).
    static func ownImage(_ client: KubeClient) async throws -> String? {
        let namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        guard let pod = ProcessInfo.processInfo.environment["HOSTNAME"], !pod.isEmpty,
            let namespace = try? String(contentsOfFile: namespaceFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        else { return nil }
        let object = try await client.get(.pods, namespace: namespace, name: pod)
        let containers = object[path: ["spec", "containers"]]?.arrayValue ?? []
        let own = containers.first { $0["command"]?.arrayValue?.first?.stringValue == "longhorn-dr" } ?? containers.first
        return own?["image"]?.stringValue
    }
}
