import CLITestSupport
import Foundation
import Testing

@testable import AWS

/// Signs ~200 generated requests with our signer and with botocore (the AWS CLI's signer) and demands
/// identical `Authorization` headers.
///
/// botocore reads the clock through `botocore.auth.get_current_datetime`; the Python side replaces
/// that module attribute with a function returning a fixed datetime, and reports the `X-Amz-Date` it
/// wrote so the test can check the pin took effect. One Python process signs the whole batch (JSON on
/// stdin, JSON on stdout, arguments as an array: no shell).
///
/// botocore is a test dependency. When it cannot be imported the test fails, telling how to install it;
/// it never skips, so a green run always means the comparison happened.
@Suite("SigV4Signer: differential against botocore")
struct SigV4BotocoreDifferentialTests {
    static let timestamp = "20260115T083007Z"
    static let date = Date(timeIntervalSince1970: 1_768_465_807)

    @Test("200 generated requests sign identically to botocore's SigV4Auth / S3SigV4Auth")
    func matchesBotocore() async throws {
        #expect(SigV4Signer.amzDate(Self.date) == Self.timestamp)
        var generator = RequestGenerator(seed: 0x5EED_5164_0000_0001)
        let cases = (0..<200).map { _ in generator.next() }

        let python = try PythonRunner.locate()
        let input = BotocoreBatch(timestamp: Self.timestamp, cases: cases.map(\.wire))
        let outputs = try await PythonRunner.run(python: python, script: Self.botocoreScript, input: input, as: [BotocoreResult].self)
        try #require(outputs.count == cases.count, "botocore returned \(outputs.count) results for \(cases.count) requests")

        var mismatches = 0
        for (generated, botocore) in zip(cases, outputs) {
            #expect(botocore.amzDate == Self.timestamp, "botocore's clock was not pinned: it wrote X-Amz-Date \(botocore.amzDate)")
            let signer = SigV4Signer(credentials: generated.credentials, region: generated.region, service: generated.service)
            let ours = signer.sign(
                generated.request,
                payloadHash: generated.unsignedPayload ? SigV4Signer.unsignedPayload : nil,
                date: Self.date
            )
            if ours.authorization != botocore.authorization {
                mismatches += 1
                Issue.record(
                    """
                    Authorization differs for case \(generated.index) (service \(generated.service)):
                    request: \(generated.wire.method) \(generated.wire.url) query=\(generated.wire.query) headers=\(generated.wire.headers) token=\(generated.credentials.sessionToken != nil) unsigned=\(generated.unsignedPayload)
                    ours:     \(ours.authorization)
                    botocore: \(botocore.authorization)
                    --- our canonical request ---
                    \(ours.canonicalRequest)
                    --- botocore's canonical request ---
                    \(botocore.canonicalRequest)
                    """
                )
            }
        }
        #expect(mismatches == 0)
        // The generator must really have produced the hard cases, or the comparison proves little.
        #expect(cases.contains { $0.service == "s3" } && cases.contains { $0.service == "ssm" })
        #expect(cases.contains { $0.credentials.sessionToken != nil } && cases.contains { $0.credentials.sessionToken == nil })
        #expect(cases.contains { $0.unsignedPayload })
        #expect(cases.contains { $0.wire.headers.contains { $0[1].contains("  ") } })
        #expect(cases.contains { Set($0.wire.query.map { $0[0] }).count < $0.wire.query.count })
    }

    /// The failure path must be loud and say what to do. `-I -S` starts Python without site-packages
    /// (and ignores PYTHONPATH), so botocore cannot be imported.
    @Test("without botocore the test fails with the install instruction")
    func missingBotocoreFailsLoudly() async throws {
        let python = try PythonRunner.locate()
        let input = BotocoreBatch(timestamp: Self.timestamp, cases: [])
        let error = await #expect(throws: DifferentialTestError.self) {
            try await PythonRunner.run(python: python, options: ["-I", "-S"], script: Self.botocoreScript, input: input, as: [BotocoreResult].self)
        }
        #expect(error?.description.contains("run scripts/test to install botocore") == true)
    }

    // MARK: - The Python side

    static let botocoreScript = #"""
        import base64, datetime, json, sys, types
        try:
            import botocore, botocore.auth, botocore.awsrequest, botocore.credentials
        except Exception as exc:
            sys.stderr.write("BOTOCORE_IMPORT_FAILED: %r\n" % (exc,))
            sys.exit(3)

        batch = json.load(sys.stdin)
        fixed = datetime.datetime.strptime(batch["timestamp"], "%Y%m%dT%H%M%SZ")
        # add_auth() asks this module-level function for "now"; pin it.
        botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed

        results = []
        for case in batch["cases"]:
            creds = botocore.credentials.Credentials(case["accessKey"], case["secretKey"], case.get("token"))
            cls = botocore.auth.S3SigV4Auth if case["service"] == "s3" else botocore.auth.SigV4Auth
            signer = cls(creds, case["service"], case["region"])
            seen = {}
            original = signer.string_to_sign
            def capture(request, canonical_request, original=original, seen=seen):
                seen["canonical"] = canonical_request
                return original(request, canonical_request)
            signer.string_to_sign = capture
            request = botocore.awsrequest.AWSRequest(
                method=case["method"],
                url=case["url"],
                data=base64.b64decode(case["body"]),
                params=[(name, value) for name, value in case["query"]],
            )
            for name, value in case["headers"]:
                request.headers[name] = value  # HTTPHeaders appends, so repeated names stay repeated
            if case["unsignedPayload"]:
                request.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
            signer.add_auth(request)
            results.append({
                "authorization": request.headers["Authorization"],
                "amzDate": request.headers["X-Amz-Date"],
                "canonicalRequest": seen.get("canonical", ""),
            })
        json.dump(results, sys.stdout)
        """#
}

// MARK: - Wire format

struct BotocoreBatch: Codable {
    var timestamp: String
    var cases: [BotocoreCase]
}

struct BotocoreCase: Codable {
    var method: String
    var url: String
    /// `[name, value]` pairs, decoded; a bare name is sent as an empty value (both sign as `name=`).
    var query: [[String]]
    var headers: [[String]]
    var body: String
    var service: String
    var region: String
    var accessKey: String
    var secretKey: String
    var token: String?
    var unsignedPayload: Bool
}

struct BotocoreResult: Codable {
    var authorization: String
    var amzDate: String
    var canonicalRequest: String
}

// MARK: - Generated requests

struct GeneratedCase {
    var index: Int
    var service: String
    var region: String
    var credentials: AWSCredentials
    var request: AWSHTTPRequest
    var unsignedPayload: Bool
    var wire: BotocoreCase
}

/// SplitMix64: tiny, seedable, and the same sequence on every platform.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct RequestGenerator {
    var random: SeededRandom
    var count = 0

    init(seed: UInt64) {
        random = SeededRandom(state: seed)
    }

    static let regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
    static let segments = [
        "backupstore", "volumes", "pvc-0a1b2c3d", "volume.cfg", "with space", "two  spaces", "ünïcödé", "日本語",
        "semi;colon", "plus+sign", "eq=al", "q?mark", "hash#tag", "dollar$", "percent%", "tilde~ok", "star*",
        "quote'", "paren()", "comma,", "at@", "colon:", "amp&", "UPPER", "-._~",
    ]
    static let queryNames = [
        "prefix", "list-type", "continuation-token", "max-keys", "a", "A", "b", "empty", "Param", "ünï",
        "sp ace", "plus+", "eq=", "semi;", "~tilde", "x-id",
    ]
    static let queryValues = [
        "", "1", "2", "value", "Value", "a b", "a+b", "a=b", "x/y/z", "ünï", "%41", "*", "tok/en+==", "日本",
    ]
    static let headerNames = [
        "X-Amz-Meta-Note", "x-amz-meta-CASE", "Content-Type", "X-Custom", "My-Header", "Content-MD5-X",
        "User-Agent", "X-Amzn-Trace-Id",
    ]
    static let headerValues = [
        "value", "  leading", "trailing  ", "inner    run", "tab\t\tsep", " mixed \t  both ", "\"a   b   c\"",
        "text/plain; charset=utf-8", "1,2", "",
    ]

    mutating func pick<T>(_ values: [T]) -> T {
        values[Int(random.next() % UInt64(values.count))]
    }

    mutating func chance(_ percent: UInt64) -> Bool {
        random.next() % 100 < percent
    }

    mutating func token(length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        return String((0..<length).map { _ in pick(alphabet) })
    }

    mutating func next() -> GeneratedCase {
        defer { count += 1 }
        let service = chance(60) ? "s3" : "ssm"
        let region = pick(Self.regions)
        let method = pick(["GET", "PUT", "POST", "HEAD", "DELETE"])
        let (scheme, host, port): (String, String, Int?) = pick([
            ("https", service == "s3" ? "bucket.s3.\(region).amazonaws.com" : "ssm.\(region).amazonaws.com", nil),
            ("https", "s3.\(region).amazonaws.com", nil),
            ("http", "minio.example.internal", 9000),
            ("https", "ceph.example", 8443),
            ("https", "Mixed.Case.Example", nil),
            ("https", "gw.example", 443),
        ])

        // The path as sent: each raw segment AWS-encoded once (as S3Addressing does). Non-S3 cases also
        // get dot segments and empty segments, which they must normalise and S3 must keep.
        var pieces: [String] = []
        for _ in 0..<Int(random.next() % 5) {
            if chance(15) {
                pieces.append(pick([".", "..", ""]))
            } else {
                pieces.append(AWSURIEncoding.encode(pick(Self.segments)))
            }
        }
        var path = "/" + pieces.joined(separator: "/")
        if chance(25) { path += "/" }
        if service != "s3" && chance(15) {
            path = "/raw space/ünï"  // the test suite's style: characters the path has not encoded yet
        }

        var query: [AWSHTTPRequest.QueryItem] = []
        for _ in 0..<Int(random.next() % 6) {
            let name = pick(Self.queryNames)
            query.append(.init(name, chance(10) ? nil : pick(Self.queryValues)))
            if chance(20) {
                query.append(.init(name, pick(Self.queryValues)))  // the same key again
            }
        }

        var headers: [AWSHTTPRequest.Header] = []
        for _ in 0..<Int(random.next() % 5) {
            let name = pick(Self.headerNames)
            headers.append(.init(name, pick(Self.headerValues)))
            if chance(15) {
                headers.append(.init(name, pick(Self.headerValues)))
            }
        }
        if service == "s3" && chance(30) {
            headers.append(.init("Range", "bytes=\(random.next() % 1000)-\(1000 + random.next() % 1000)"))
        }

        let body = Data((0..<Int(random.next() % 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) })
        let unsigned = service == "s3" && chance(25)
        let credentials = AWSCredentials(
            accessKeyID: "AKIA" + token(length: 16).filter { $0.isLetter || $0.isNumber },
            secretAccessKey: token(length: 40),
            sessionToken: chance(50) ? token(length: 120) : nil
        )
        let request = AWSHTTPRequest(
            method: method,
            scheme: scheme,
            host: host,
            port: port,
            path: path,
            query: query,
            headers: headers,
            body: body
        )
        let portText = port.map { ":\($0)" } ?? ""
        let wire = BotocoreCase(
            method: method,
            url: "\(scheme)://\(host)\(portText)\(path)",
            query: query.map { [$0.name, $0.value ?? ""] },
            headers: headers.map { [$0.name, $0.value] },
            body: body.base64EncodedString(),
            service: service,
            region: region,
            accessKey: credentials.accessKeyID,
            secretKey: credentials.secretAccessKey,
            token: credentials.sessionToken,
            unsignedPayload: unsigned
        )
        return GeneratedCase(
            index: count,
            service: service,
            region: region,
            credentials: credentials,
            request: request,
            unsignedPayload: unsigned,
            wire: wire
        )
    }
}

// MARK: - Running Python

struct DifferentialTestError: Error, CustomStringConvertible {
    var description: String
}

enum PythonRunner {
    /// The project's venv interpreter when there is one (`.tools/venv/bin/python3` at the package
    /// root, where scripts/test installs botocore), else `python3` from `PATH`.
    static func locate() throws -> URL {
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // AWSTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()
        let venv = packageRoot.appendingPathComponent(".tools/venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return URL(fileURLWithPath: venv) }
        return URL(fileURLWithPath: try TestTool.locate("python3", hint: "run scripts/test, which installs botocore into .tools/venv"))
    }

    static func run<Input: Encodable, Output: Decodable>(
        python: URL,
        options: [String] = [],
        script: String,
        input: Input,
        as: Output.Type
    ) async throws -> Output {
        let result = try await TestTool.run(python.path, options + ["-c", script], input: try JSONEncoder().encode(input))
        let errorText = result.stderr
        if errorText.contains("BOTOCORE_IMPORT_FAILED") {
            throw DifferentialTestError(
                description: "botocore cannot be imported by \(python.path): run scripts/test to install botocore (\(errorText))"
            )
        }
        guard result.status == 0 else {
            throw DifferentialTestError(
                description: "\(python.path) exited with status \(result.status): \(errorText)"
            )
        }
        let output = Data(result.stdout.utf8)
        return try JSONDecoder().decode(Output.self, from: output)
    }
}
