# vmd -dispdev text -e extract-snapshots.tcl -args DCD COUNT OUTDIR
lassign $argv dcd count outdir
mol new [glob *.psf] waitfor all
mol addfile $dcd waitfor all
set frames [molinfo top get numframes]
for {set i 1} {$i <= $count} {incr i} {
  set f [expr {($i * $frames) / $count - 1}]
  [atomselect top all frame $f] writepdb $outdir/snap_$i.pdb
  molinfo top set frame $f
  set cell [molinfo top get {a b c}]
  set out [open $outdir/snap_$i.xsc w]
  puts $out "# NAMD extended system configuration"
  puts $out "0 [lindex $cell 0] 0 0 0 [lindex $cell 1] 0 0 0 [lindex $cell 2] 0 0 0"
  close $out
}
quit
