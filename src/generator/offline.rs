//! The offline backend: renders a real short H.264 MP4 with ffmpeg (the prompt over a moving,
//! colour-cycling pattern) so the whole loop works with no account and no network.
//! ffmpeg runs in the clips folder with the prompt in a text file beside the output, so no
//! prompt text is ever parsed as ffmpeg syntax. ffmpeg runs through [`crate::tools`]: the
//! whole render (progress lines included) is bounded by 2 minutes, and ffmpeg is
//! killed when the render is dropped.

use std::path::Path;
use std::time::Duration;

use super::download::PartFile;
use super::error::GenerationError;
use crate::tools::{self, Invocation, Tool, ToolError};

#[derive(Debug, Clone)]
pub struct OfflineOptions {
    pub ffmpeg: String,
    pub seconds: u32,
    pub width: u32,
    pub height: u32,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        Self {
            ffmpeg: "ffmpeg".into(),
            seconds: 4,
            width: 1280,
            height: 720,
        }
    }
}

const INSTALL: &str = "install it (Debian/Ubuntu: sudo apt install ffmpeg) and try again";

/// The prompt as drawn: wrapped at about 34 characters a line, at most 4 lines.
pub fn wrap_prompt(prompt: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in prompt.split_whitespace() {
        let word: String = word.chars().take(34).collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 34 {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > 4 {
        lines.truncate(4);
        lines[3].push('…');
    }
    // drawtext expands `%{…}`: a lone percent sign is written as `%%`.
    lines.join("\n").replace('%', "%%")
}

/// ffmpeg as the offline backend runs it.
const FFMPEG: Tool = Tool {
    name: "ffmpeg",
    install_hint: INSTALL,
};
/// Longest a render may take (it is a few seconds of 720p; this only catches a hang).
const RENDER_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest `ffmpeg -version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(30);

/// Renders `prompt` into `final_path` (an MP4). `progress(percent)` follows ffmpeg's clock.
pub async fn render(
    options: &OfflineOptions,
    prompt: &str,
    final_path: &Path,
    progress: &mut (dyn FnMut(f64) + Send),
) -> Result<u64, GenerationError> {
    let dir = final_path.parent().unwrap_or(Path::new("."));
    let part = PartFile::for_final(final_path)?;
    let text_file = PartFile::for_final(&final_path.with_extension("txt"))?;
    tokio::fs::write(text_file.path(), wrap_prompt(prompt))
        .await
        .map_err(|e| GenerationError::disk("cannot write", dir, &e))?;
    let name = |p: &PartFile| {
        p.path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let (w, h, secs) = (options.width, options.height, options.seconds.max(1));
    let filter = format!(
        "hue=H=2*PI*t/{secs}:s=1.3,drawtext=textfile={}:fontcolor=white:fontsize={}:\
         line_spacing=12:box=1:boxcolor=black@0.55:boxborderw=28:\
         x=(w-text_w)/2:y=(h-text_h)/2+sin(2*PI*t/{secs})*{}",
        name(&text_file),
        h / 13,
        h / 24
    );
    let total_us = secs as f64 * 1e6;
    let output = Invocation::new(FFMPEG, &options.ffmpeg)
        .current_dir(dir)
        .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={w}x{h}:rate=30:duration={secs}"))
        .args(["-vf", &filter])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        ])
        .args([
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            "-progress",
            "pipe:1",
        ])
        .arg(name(&part))
        .output_by_line(RENDER_TIMEOUT, &mut |line| {
            if let Some(us) = line.strip_prefix("out_time_us=") {
                if let Ok(us) = us.trim().parse::<f64>() {
                    progress((us / total_us * 100.0).clamp(0.0, 100.0));
                }
            }
        })
        .await
        .map_err(|e| match e {
            ToolError::Missing {
                tool, install_hint, ..
            } => GenerationError::ToolMissing {
                tool,
                install: install_hint,
            },
            ToolError::CannotStart { source, .. } => GenerationError::Render {
                detail: format!("cannot start ffmpeg: {source}"),
            },
            ToolError::Timeout { .. } => GenerationError::Render {
                detail: "ffmpeg took longer than 2 minutes".into(),
            },
            ToolError::Wait { source, .. } => GenerationError::Render {
                detail: source.to_string(),
            },
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("no message").trim();
        return Err(GenerationError::Render {
            detail: format!(
                "ffmpeg exited with {}: {}",
                output.status,
                last.chars().take(200).collect::<String>()
            ),
        });
    }
    let bytes = tokio::fs::metadata(part.path())
        .await
        .map_err(|e| GenerationError::disk("cannot read", part.path(), &e))?
        .len();
    part.commit(final_path).await?;
    drop(text_file);
    Ok(bytes)
}

/// Whether ffmpeg can be started (the offline backend's health probe).
pub async fn ffmpeg_available(ffmpeg: &str) -> Result<(), GenerationError> {
    match tools::run(FFMPEG, ffmpeg, ["-version"], VERSION_TIMEOUT).await {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(GenerationError::Render {
            detail: format!("`ffmpeg -version` exited with {}", out.status),
        }),
        Err(ToolError::Timeout { after, .. }) => Err(GenerationError::Render {
            detail: format!("`ffmpeg -version` took longer than {} s", after.as_secs()),
        }),
        // Missing, not executable, or lost: for the streamer, ffmpeg is not usable.
        Err(_) => Err(GenerationError::ToolMissing {
            tool: "ffmpeg",
            install: INSTALL,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_prompt;

    #[test]
    fn prompts_are_wrapped_bounded_and_escaped() {
        assert_eq!(wrap_prompt("a cat surfing"), "a cat surfing");
        assert_eq!(
            wrap_prompt("a very long prompt about a tiny robot that gardens on the moon at night"),
            "a very long prompt about a tiny\nrobot that gardens on the moon at\nnight"
        );
        assert_eq!(wrap_prompt("100% %{pts} cool"), "100%% %%{pts} cool");
        let many = "word ".repeat(100);
        let wrapped = wrap_prompt(&many);
        assert_eq!(wrapped.lines().count(), 4);
        assert!(wrapped.ends_with('…'));
        assert!(wrap_prompt(&"x".repeat(500)).chars().count() <= 34);
    }
}
