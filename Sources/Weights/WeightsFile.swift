// WeightsFile: loads a weights file of either format scgrn reads, chosen by its first bytes.
//
// `PK\x03\x04` (a zip) is a PyTorch checkpoint (`.pth`, `.pt`, Lightning `.ckpt`); anything else
// is read as safetensors, whose own checks reject what is not one. Both give a TensorFile.

import Foundation
import ToolKit

public enum WeightsFile {
    /// Loads the tensors of a PyTorch checkpoint or a safetensors file.
    /// - Throws: `ToolError.badInput` (exit 65) naming the file and the problem.
    public static func load(_ path: String) throws -> TensorFile {
        let file = try withMappedFile(path) { raw -> TensorFile in
            if raw.count >= 4 && raw[0] == 0x50 && raw[1] == 0x4B && raw[2] == 0x03 && raw[3] == 0x04 {
                return try TorchCheckpoint.decode(raw, name: path)
            }
            // Legacy torch files open with a protocol-2 pickle of a 10-byte magic number.
            if raw.count >= 4 && raw[0] == 0x80 && raw[1] == 0x02 && raw[2] == 0x8A && raw[3] == 0x0A {
                throw ToolError.data(path, "a legacy (pre-1.6, non-zip) PyTorch file is not supported; re-save it with torch.save in a current PyTorch")
            }
            if raw.count >= 4 && raw[0] == 0x50 && raw[1] == 0x4B {
                throw ToolError.data(path, "a zip file without a leading member is not a PyTorch checkpoint")
            }
            // A bare pickle (PROTO 2–5 opcode first) would otherwise be read as a safetensors length.
            if raw.count >= 2 && raw[0] == 0x80 && (2...5).contains(raw[1]) {
                throw ToolError.data(path, "a bare pickle, not a checkpoint scgrn reads: give torch.save's zip "
                                     + "format (.pth, .pt, .ckpt) or a .safetensors file")
            }
            return try Safetensors.decode(raw, name: path)
        }
        try file.requireFinite(source: path)
        return file
    }
}
